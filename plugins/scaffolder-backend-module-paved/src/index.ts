/**
 * Scaffolder actions for Paved: `paved:tenant:create`, `paved:app:deploy`,
 * `paved:app:delete` and `paved:tenant:delete`.
 *
 * @packageDocumentation
 */
export { scaffolderModulePaved as default } from './module';
export * from './actions';
