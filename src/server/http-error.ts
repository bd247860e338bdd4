/** A refusal with its HTTP status; the body is `{error:{code,message}}` like the CLI's `--json` errors. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
