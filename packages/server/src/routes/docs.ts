/** What the OpenAPI document needs to know about one operation. */
export interface OperationDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path template, e.g. `/api/email-servers/{id}`. */
  path: string;
  summary: string;
  tag: string;
  auth: 'none' | 'session' | 'apiKey';
  requestBody?: Record<string, unknown>;
  query?: Record<string, Record<string, unknown>>;
  responses: Record<string, { description: string; schema?: Record<string, unknown> }>;
}
