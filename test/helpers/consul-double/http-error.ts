// An error the Consul HTTP API double answers with a status and Consul's plain-text message
// (400 for a body that does not decode, 500 for what Consul's RPC layer refuses). Test helper; pure.

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
