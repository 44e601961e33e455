/**
 * Errors the simulated AppManager answers with. The HTTP layer turns them into the
 * configured error body (JSON `{kind: "Error", ...}` or plain text).
 */
export class ApiError extends Error {
  /**
   * @param statusCode HTTP status to answer.
   * @param reason Short reason phrase (`Conflict`, `Not Found`, ...).
   * @param message Human text, as VVP puts it in `message`.
   */
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** 400 Bad Request. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, 'Bad Request', message);
}

/** 404 Not Found. */
export function notFound(message: string): ApiError {
  return new ApiError(404, 'Not Found', message);
}

/** 409 Conflict. */
export function conflict(message: string): ApiError {
  return new ApiError(409, 'Conflict', message);
}
