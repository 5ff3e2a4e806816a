/**
 * jest `globalSetup`: starts the test environment once per jest run and exports it to the workers
 * through environment variables (workers are forked after this runs, so they inherit them):
 *
 * - `KUBECONFIG`, `CAPP_TEST_ADMIN_TOKEN` — the control plane (admin = system:masters)
 * - `DATABASE_URL`, `REDIS_URL`
 * - `CAPP_TEST_ENV` — path of env.json (server, CA, static user tokens, ...; see `testEnvironment()`)
 *
 * A part whose variable is already set is not started: `DATABASE_URL` / `REDIS_URL` are used as
 * they are; `KUBECONFIG` is used when it belongs to a harness cluster (`npm run cluster:up`) or when
 * `CAPP_TEST_USE_EXISTING_CLUSTER=true` — never silently, since tests create and delete namespaces.
 *
 * Usage in a jest config:
 *   globalSetup: '<rootDir>/../../libs/testing/src/jest-global-setup.ts',
 *   globalTeardown: '<rootDir>/../../libs/testing/src/jest-global-teardown.ts',
 */
// Must come first: the aliases are needed by what the hooks import.
import './lib/register-paths';

import { globalSetup } from './lib/jest-hooks';

export default globalSetup;
