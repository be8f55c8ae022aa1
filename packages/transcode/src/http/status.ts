/** The HTTP status of an error code: @herald/protocol's one table, shared with the server. */
export { httpStatusOf } from '@herald/protocol';
