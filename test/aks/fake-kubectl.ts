/**
 * A stand-in for the kubectl binary: a small Node script (shebang with this Node, made
 * executable) that implements `version --client --output=json` and
 * `port-forward service/<svc> <local>:<port> -n <ns> --kubeconfig <file> [--address <ip>]`,
 * forwarding TCP connections to a local target (the VVP simulator). What it does is steered by
 * a JSON behaviour file the test rewrites between runs; every invocation leaves a JSON record
 * (pid, arguments, what the kubeconfig looked like, how it ended) for assertions.
 *
 * Its errors are kubectl's own wording, so the task's messages are tested against real text.
 * SIGUSR2 makes a running port-forward lose its pod: it prints kubectl's error and exits 1.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type FakeKubectlMode =
  /** Forward every connection to `target`. */
  | 'ok'
  /** RBAC: the identity may not get the service. */
  | 'forbidden'
  /** The API server host does not resolve. */
  | 'unreachable'
  /** First invocation prints its Forwarding line, then loses the pod and exits; later ones work. */
  | 'dropOnce'
  /** Forwarding line printed, connections accepted but never answered. */
  | 'hang'
  /** Starts and never prints its Forwarding line (an API server that accepts and stalls). */
  | 'stuck'
  /** Prints `stderr` (a kubectl error message) and exits 1 before forwarding. */
  | 'fails';

export interface FakeKubectlBehaviour {
  /** What `version --client` reports, e.g. `v1.34.2`. */
  version: string;
  /** `127.0.0.1:<port>` the tunnel forwards to. */
  target: string;
  /** Services that exist, as `<namespace>/<service>:<port>`. */
  services: string[];
  mode: FakeKubectlMode;
  /** Folder for one `<pid>.json` record per invocation. */
  recordDir: string;
  /** What mode `fails` prints. */
  stderr?: string;
}

/** What one invocation saw and did. */
export interface FakeKubectlRecord {
  pid: number;
  /** The process that started kubectl (the task). */
  ppid: number;
  args: string[];
  command: string;
  kubeconfig?: string;
  /** `0o600` → 384; undefined on Windows. */
  kubeconfigMode?: number;
  /** `token`, `clientCertificate`, `exec:<command>`, `none`. */
  userKind?: string;
  /** `aud` of a JWT user token. */
  tokenAudience?: string;
  /** Host of the cluster's `proxy-url`, if any. */
  proxyHost?: string;
  server?: string;
  localPort?: number;
  exitCode?: number;
  signal?: string;
  connections?: number;
  /** Start time (ms since the epoch), for ordering. */
  startedAt: number;
}

/** Writes the script (mode 0755) and returns its text; `behaviourFile` is read on every run. */
export function writeFakeKubectl(file: string, behaviourFile: string): Buffer {
  const yamlModule = require.resolve('yaml');
  const script = `#!${process.execPath}
'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');
const YAML = require(${JSON.stringify(yamlModule)});
const B = JSON.parse(fs.readFileSync(${JSON.stringify(behaviourFile)}, 'utf8'));
const args = process.argv.slice(2);
const record = { pid: process.pid, ppid: process.ppid, args, command: args[0] || '', connections: 0, startedAt: Date.now() };
const recordFile = path.join(B.recordDir, process.pid + '.json');
// Written aside and renamed, so a test reading records never sees half a file.
const save = () => { fs.writeFileSync(recordFile + '.tmp', JSON.stringify(record)); fs.renameSync(recordFile + '.tmp', recordFile); };
const die = (code, text) => { if (text) process.stderr.write(text + '\\n'); record.exitCode = code; save(); process.exit(code); };
process.on('SIGTERM', () => { record.signal = 'SIGTERM'; die(0); });
process.on('SIGINT', () => { record.signal = 'SIGINT'; die(0); });
process.on('SIGUSR2', () => die(1, 'E1122 10:00:00.000000 ' + process.pid + ' portforward.go:413] an error occurred forwarding ' + (record.localPort || 0) + ' -> 8080: error forwarding port 8080 to pod vvp-ververica-platform-7d9c6b5f4-x2x9q, uid : lost connection to pod'));
save();

if (args[0] === 'version') {
  if (!args.includes('--client')) die(1, 'The connection to the server localhost:8080 was refused - did you specify the right host or port?');
  const [major, minor] = B.version.replace(/^v/, '').split('.');
  const json = { clientVersion: { major, minor, gitVersion: B.version, gitCommit: 'fake', gitTreeState: 'clean', buildDate: '2025-11-11T00:00:00Z', goVersion: 'go1.24.9', compiler: 'gc', platform: process.platform + '/' + process.arch }, kustomizeVersion: 'v5.7.1' };
  if (args.includes('--output=json') || args.includes('-o') && args[args.indexOf('-o') + 1] === 'json') process.stdout.write(JSON.stringify(json, null, 2) + '\\n');
  else process.stdout.write('Client Version: ' + B.version + '\\nKustomize Version: v5.7.1\\n');
  die(0);
}
if (args[0] !== 'port-forward') die(1, 'error: unknown command "' + args[0] + '" for "kubectl"');

const flag = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const resource = args[1] || '';
const ports = args[2] || '';
const ns = flag('-n') || flag('--namespace') || 'default';
const kubeconfigFile = flag('--kubeconfig');
const address = flag('--address') || 'localhost';
const svc = resource.replace(/^(service|svc)\\//, '');
const [localText, remoteText] = ports.split(':');
record.kubeconfig = kubeconfigFile;
let config;
try {
  const stat = fs.statSync(kubeconfigFile);
  if (process.platform !== 'win32') record.kubeconfigMode = stat.mode & 0o777;
  config = YAML.parse(fs.readFileSync(kubeconfigFile, 'utf8'));
} catch (e) {
  die(1, 'error: stat ' + kubeconfigFile + ': no such file or directory');
}
const ctx = (config.contexts || []).find((c) => c.name === config['current-context']) || {};
const cluster = ((config.clusters || []).find((c) => c.name === (ctx.context || {}).cluster) || {}).cluster || {};
const user = ((config.users || []).find((u) => u.name === (ctx.context || {}).user) || {}).user || {};
record.server = cluster.server;
if (cluster['proxy-url']) record.proxyHost = new URL(cluster['proxy-url']).host;
if (user.exec) record.userKind = 'exec:' + user.exec.command;
else if (user.token) record.userKind = 'token';
else if (user['client-certificate-data']) record.userKind = 'clientCertificate';
else record.userKind = 'none';
if (user.token && user.token.split('.').length === 3) {
  try { record.tokenAudience = JSON.parse(Buffer.from(user.token.split('.')[1], 'base64url').toString('utf8')).aud; } catch (e) { /* not a JWT */ }
}
save();
const host = cluster.server ? new URL(cluster.server).hostname : 'localhost';
if (user.exec) {
  die(1, 'Unable to connect to the server: getting credentials: exec: executable ' + user.exec.command + ' not found\\n\\nIt looks like you are trying to use a client-go credential plugin that is not installed.');
}
const identity = user.token ? (record.tokenAudience ? 'a4e1c9f2-0000-4000-8000-000000000001' : 'clusterUser') : 'masterclient';
if (B.mode === 'unreachable') {
  setTimeout(() => die(1, 'Unable to connect to the server: dial tcp: lookup ' + host + ' on 127.0.0.53:53: no such host'), 100);
  return;
}
if (B.mode === 'fails') die(1, B.stderr || '');
if (B.mode === 'forbidden') {
  die(1, 'Error from server (Forbidden): services "' + svc + '" is forbidden: User "' + identity + '" cannot get resource "services" in API group "" in the namespace "' + ns + '"');
}
if (!B.services.includes(ns + '/' + svc + ':' + remoteText)) {
  if (B.services.some((s) => s.startsWith(ns + '/' + svc + ':'))) die(1, 'error: Service ' + svc + ' does not have a service port ' + remoteText);
  die(1, 'Error from server (NotFound): services "' + svc + '" not found');
}
if (B.mode === 'stuck') {
  setInterval(() => {}, 1000);
  return;
}
const dropNow = B.mode === 'dropOnce' && !fs.existsSync(path.join(B.recordDir, 'dropped'));
const [targetHost, targetPort] = B.target.split(':');
const server = net.createServer((socket) => {
  record.connections++;
  save();
  process.stdout.write('Handling connection for ' + server.address().port + '\\n');
  if (B.mode === 'hang') { socket.on('error', () => {}); return; }
  const upstream = net.connect(Number(targetPort), targetHost);
  socket.pipe(upstream).pipe(socket);
  socket.on('error', () => upstream.destroy());
  upstream.on('error', () => socket.destroy());
});
server.on('error', (e) => {
  die(1, 'Unable to listen on port ' + localText + ': Listeners failed to create with the following errors: [unable to create listener: Error listen tcp4 127.0.0.1:' + localText + ': bind: address already in use]\\nerror: unable to listen on any of the requested ports: [{' + localText + ' 8080}]');
});
server.listen(Number(localText || 0), address === 'localhost' ? '127.0.0.1' : address, () => {
  const port = server.address().port;
  record.localPort = port;
  save();
  process.stdout.write('Forwarding from 127.0.0.1:' + port + ' -> 8080\\n');
  if (dropNow) {
    fs.writeFileSync(path.join(B.recordDir, 'dropped'), '');
    server.close();
    setTimeout(() => die(1, 'E1122 10:00:00.000000 ' + process.pid + ' portforward.go:413] an error occurred forwarding ' + port + ' -> 8080: error forwarding port 8080 to pod vvp-ververica-platform-7d9c6b5f4-x2x9q, uid : lost connection to pod'), 150);
  }
});
`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, script, { mode: 0o755 });
  fs.chmodSync(file, 0o755);
  return Buffer.from(script);
}

/** Rewrites the behaviour file (read by the next invocation). */
export function setBehaviour(behaviourFile: string, behaviour: FakeKubectlBehaviour): void {
  fs.mkdirSync(behaviour.recordDir, { recursive: true });
  fs.writeFileSync(behaviourFile, JSON.stringify(behaviour));
}

/** Records of every invocation so far, oldest first. */
export function readRecords(recordDir: string): FakeKubectlRecord[] {
  if (!fs.existsSync(recordDir)) return [];
  return fs
    .readdirSync(recordDir)
    .filter((f) => /^\d+\.json$/.test(f))
    .map((f) => {
      return JSON.parse(fs.readFileSync(path.join(recordDir, f), 'utf8')) as FakeKubectlRecord;
    })
    .sort((a, b) => a.startedAt - b.startedAt);
}

/** Forgets the records (and the dropOnce marker) before the next run. */
export function clearRecords(recordDir: string): void {
  fs.rmSync(recordDir, { recursive: true, force: true });
  fs.mkdirSync(recordDir, { recursive: true });
}
