/**
 * Route schemas are TypeBox schemas checked by TypeBox's compiler. Bodies are checked strictly (no
 * type coercion, no unknown fields); path parameters and query strings are converted from their
 * string form first. The error names the field and the rule, never the submitted value.
 */
import type { FastifyInstance } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';

/** A validation failure; `code` makes Fastify and our error handler treat it as one. */
export class RequestValidationError extends Error {
  readonly code = 'FST_ERR_VALIDATION';
  readonly statusCode = 400;
  constructor(part: string, error: ValueError | undefined) {
    super(describe(part, error));
    this.name = 'RequestValidationError';
  }
}

function describe(part: string, error: ValueError | undefined): string {
  if (!error) return `${part} is invalid.`;
  let segments = error.path.split('/').filter(Boolean);
  // The path of an unexpected property is the submitted key itself: name its parent instead.
  if (error.type === ValueErrorType.ObjectAdditionalProperties) segments = segments.slice(0, -1);
  const field = [part, ...segments].join('.');
  const rule = error.type === ValueErrorType.ObjectAdditionalProperties ? 'Unexpected property' : error.message;
  return `${field}: ${rule}.`;
}

export function installValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const checker = TypeCompiler.Compile(schema as TSchema);
    const fromStrings = httpPart === 'querystring' || httpPart === 'params';
    const part = httpPart === 'querystring' ? 'query' : (httpPart ?? 'request');
    return (data: unknown) => {
      const value = fromStrings ? Value.Convert(schema as TSchema, data) : data;
      if (checker.Check(value)) return { value };
      return { error: new RequestValidationError(part, checker.Errors(value).First()) };
    };
  });
}
