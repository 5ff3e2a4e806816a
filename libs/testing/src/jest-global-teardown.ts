/** jest `globalTeardown`: stops what jest-global-setup.ts started (nothing it merely reused). */
// Must come first: the aliases are needed by what the hooks import.
import './lib/register-paths';

import { globalTeardown } from './lib/jest-hooks';

export default globalTeardown;
