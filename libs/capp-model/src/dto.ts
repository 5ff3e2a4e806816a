/**
 * `@capp/capp-model/dto`: the class-validator classes for the API's ValidationPipe. A separate entry
 * point so that what does not validate request bodies (the operator, the CLI) never loads
 * class-validator and its dependencies (~13 MB of resident memory).
 */
export * from './lib/dto';
export { classFor, issuesFromValidationErrors } from './lib/schema/class-validator';
