/**
 * A Ververica Platform service connection (endpoint type `VervericaPlatform` in
 * vss-extension.json) as plain data. The pipeline adapter reads it and registers the token as a
 * secret before anything else sees it.
 */
export interface VvpServiceConnection {
  /** The connection id (what a `connectedService:VervericaPlatform` input holds). */
  id: string;
  /** Server URL as entered in the connection; checked by the caller. */
  url?: string;
  /** The API token (authorization parameter `apitoken`), sent as `Authorization: Bearer`. */
  token: string;
}
