import type { Deployment } from '../../tasks/common/vvp/resources';

/**
 * A deployment as `GET /api/v1/namespaces/default/deployments/vvp-pipeline-demo` returns it from
 * VVP 2.x: defaults expanded (strategies, attempt limits, artifact image fields, logging,
 * resources), VVP's system annotations, read-only metadata and the status with its conditions.
 */
export function deploymentAsRead(): Deployment {
  return {
    kind: 'Deployment',
    apiVersion: 'v1',
    metadata: {
      id: 'd320ec04-16f5-4915-b236-6efa43b7e003',
      name: 'vvp-pipeline-demo',
      displayName: 'vvp-pipeline-demo',
      namespace: 'default',
      labels: { app: 'wikiedits' },
      annotations: {
        'com.dataartisans.appmanager.controller.deployment.spec.version': '7',
        'com.dataartisans.appmanager.controller.deployment.transitioning': 'false',
        'com.dataartisans.appmanager.controller.deployment.transitioning.since': '1582280148361',
      },
      createdAt: '2020-02-21T09:58:02.113421Z',
      modifiedAt: '2020-02-25T10:15:47.902110Z',
      resourceVersion: 23,
    },
    spec: {
      state: 'RUNNING',
      upgradeStrategy: { kind: 'STATEFUL' },
      restoreStrategy: { kind: 'LATEST_STATE', allowNonRestoredState: false },
      deploymentTargetId: '6232cc84-7aa3-4524-b3a8-36cab7203c47',
      maxSavepointCreationAttempts: 4,
      maxJobCreationAttempts: 4,
      template: {
        metadata: { annotations: {} },
        spec: {
          artifact: {
            kind: 'JAR',
            jarUri: 'wasbs://vvp@vvpstore.blob.core.windows.net/artifacts/namespaces/default/demo-0.1.jar?commit=e81c66d0a4b2',
            additionalDependencies: [],
            flinkVersion: '1.9',
            flinkImageRegistry: 'registry.platform.data-artisans.net/v2.0',
            flinkImageRepository: 'flink',
            flinkImageTag: '1.9.2-stream1-scala_2.12',
          },
          parallelism: 1,
          numberOfTaskManagers: 1,
          resources: {
            jobmanager: { cpu: 0.5, memory: '1G' },
            taskmanager: { cpu: 1.0, memory: '1G' },
          },
          flinkConfiguration: { 'state.backend': 'filesystem', 'execution.checkpointing.interval': '10s' },
          logging: { loggingProfile: 'default', log4jLoggers: { '': 'INFO' } },
          kubernetes: {
            pods: {
              envVars: [{ name: 'TZ', value: 'UTC' }],
              nodeSelector: { agentpool: 'flink' },
              tolerations: [{ key: 'flink', operator: 'Exists', effect: 'NoSchedule' }],
              affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } },
              volumeMounts: [{ name: 'cfg', volume: { name: 'cfg', configMap: { name: 'job-cfg' } }, volumeMount: { name: 'cfg', mountPath: '/cfg' } }],
            },
            taskManagerPodTemplate: {
              metadata: { labels: { team: 'streaming' } },
              spec: {
                containers: [
                  {
                    name: 'flink-taskmanager',
                    resources: { limits: { cpu: '2', memory: '4Gi' }, requests: { cpu: 1, memory: '2Gi' } },
                    ports: [{ containerPort: 9249, name: 'metrics' }],
                    livenessProbe: { httpGet: { path: '/', port: 'metrics' }, initialDelaySeconds: 30 },
                  },
                ],
                volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '10Gi' } }],
              },
            },
          },
        },
      },
    },
    status: {
      state: 'RUNNING',
      running: {
        jobId: '8f0b6f5e-2c1d-4c4a-9a57-0d0b3f2f6b11',
        transitionTime: '2020-02-25T10:17:31.554000Z',
        conditions: [
          { type: 'ClusterUnreachable', status: 'False', reason: '', message: '', lastTransitionTime: '2020-02-25T10:17:31.554000Z', lastUpdateTime: '2020-02-25T10:18:02.001000Z' },
          { type: 'JobFailing', status: 'False', reason: '', message: '', lastTransitionTime: '2020-02-25T10:17:31.554000Z', lastUpdateTime: '2020-02-25T10:18:02.001000Z' },
        ],
      },
    },
  };
}
