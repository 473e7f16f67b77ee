import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiPropertyOptional, ApiQuery, ApiResponse } from '@nestjs/swagger';

/** The body of every management API error (see all-exceptions.filter.ts). */
export class ErrorResponse {
  @ApiProperty({ example: 404, description: 'The HTTP status, repeated' }) status!: number;
  @ApiProperty({ example: 'not_found', description: 'Machine-readable reason' }) error!: string;
  @ApiProperty({ example: 'Group acme/eng not found', description: 'What went wrong, for people; never echoes request values' }) detail!: string;
  @ApiProperty({ example: '0192f3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b', description: 'Also in the X-Request-Id header; quote it to support' }) requestId!: string;
}

const ERROR_TEXT: Record<number, string> = {
  400: 'The input was refused; nothing changed',
  401: 'No bearer token, or one the server does not know',
  403: 'The token is valid but its role may not do this',
  404: 'The resource named in the path does not exist',
  409: 'Conflicts with the current state (e.g. a taken path, or a rebuild already running)',
  412: 'The precondition failed',
  422: 'Well-formed but not allowed (e.g. removing the last owner)',
  503: 'The event store is unavailable; retry later',
};

/** Error responses an operation can answer, all with the one error shape. */
export function ApiErrors(...statuses: number[]) {
  return applyDecorators(...statuses.map((status) => ApiResponse({ status, description: ERROR_TEXT[status] ?? 'Error', type: ErrorResponse })));
}

/** Every management controller: bearer token, 401 and 403. */
export function ManagementApi() {
  return applyDecorators(ApiBearerAuth(), ApiErrors(401, 403));
}

/** An optional string query parameter. */
export function ApiQueryString(name: string, description: string, extra: { example?: string; enum?: string[]; format?: string; required?: boolean } = {}) {
  const { required = false, format, ...rest } = extra;
  return ApiQuery({ name, required, description, schema: { type: 'string', ...(format ? { format } : {}), ...(rest.enum ? { enum: rest.enum } : {}) }, ...(rest.example ? { example: rest.example } : {}) });
}

/** A free-form JSON object (event data, actors, folded state). */
export const FREE_OBJECT = { type: 'object', additionalProperties: true } as const;

export { ApiProperty, ApiPropertyOptional };
