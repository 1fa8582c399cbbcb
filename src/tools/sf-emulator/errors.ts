/** One error of a record, as sObject Collections and composite results carry it. */
export interface RecordError {
  statusCode: string
  message: string
  fields: string[]
}

/**
 * A request-level failure: answered as Salesforce answers one, a JSON array
 * `[{message, errorCode, fields?}]` with its HTTP status. Thrown anywhere below a route; the server
 * turns it into the response, so bad input never becomes a crash.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields?: string[],
  ) {
    super(message)
    this.name = 'ApiError'
  }

  body(): object[] {
    return [
      {
        message: this.message,
        errorCode: this.errorCode,
        ...(this.fields ? { fields: this.fields } : {}),
      },
    ]
  }
}

export const NOT_FOUND_RESOURCE = (): ApiError =>
  new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist')

export const sessionInvalid = (): ApiError =>
  new ApiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid')

export const requestLimitExceeded = (): ApiError =>
  new ApiError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.')

export const jsonParserError = (detail: string): ApiError =>
  new ApiError(400, 'JSON_PARSER_ERROR', detail)
