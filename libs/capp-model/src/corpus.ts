/**
 * `@capp/capp-model/corpus`: Capps as a new user writes them, valid ones and ordinary mistakes, for the
 * tests that hold our Knative rules against Serving's own. A separate entry point so that the operator,
 * the API and the CLI never load test data.
 */
export type { CorpusCapp } from './lib/knative/corpus';
export { corpusCapp, KNATIVE_CORPUS } from './lib/knative/corpus';
