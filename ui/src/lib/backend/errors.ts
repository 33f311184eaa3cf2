//! Errors that cross from the engine to the UI: `{code, message}` in every transport.

import type { ApiError as ApiErrorBody } from '../bindings/ApiError';

export class ApiError extends Error implements ApiErrorBody {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }

  /** Turns anything a transport rejected with into an ApiError. */
  static from(value: unknown): ApiError {
    if (value instanceof ApiError) return value;
    if (isBody(value)) return new ApiError(value.code, value.message);
    if (value instanceof Error) return new ApiError('engine', value.message);
    if (typeof value === 'string') return new ApiError('engine', value);
    return new ApiError('engine', JSON.stringify(value));
  }
}

function isBody(value: unknown): value is ApiErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ApiErrorBody).code === 'string' &&
    typeof (value as ApiErrorBody).message === 'string'
  );
}

/** The message to show a person for any failure. */
export function errorMessage(error: unknown): string {
  return ApiError.from(error).message;
}
