/**
 * Test helpers for packages that test against the Paved backend (the
 * scaffolder module, for one): users in groups, Paved's policy decided
 * in-process, and a backend with the Paved plugin.
 *
 * @packageDocumentation
 */
export {
  ALICE,
  BOB,
  ROOT,
  TEAM_A,
  TEAM_B,
  PLATFORM,
  groupUserInfoFactory,
  localPolicyPermissionsFactory,
  startPavedBackend,
} from './backend';
export type { PavedTestBackend } from './backend';
/** To read what a test backend stored (its key is `test-encryption-key`). */
export { SecretBox } from '../database/SecretBox';
export { developmentAuthServices } from './development';
export { startFinalizerStandIn } from './finalizerStandIn';
export type { FinalizerStandIn } from './finalizerStandIn';
