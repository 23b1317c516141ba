// @ts-check
const { randomUUID } = require('node:crypto');

/**
 * History that outlives its tenant. Each tenant gets a `uid` (a new one per
 * creation), each audit entry the uid of the tenant it belongs to and the
 * client it came through (`via`: ui, template, cli, api, token); a deleted
 * tenant leaves a row in `paved_deleted_tenants`, so its history stays
 * readable by its owners and a new tenant of the same name starts empty.
 *
 * Entries written before this migration are given to the tenant of their
 * name that exists now; those of tenants already gone keep no uid (no API
 * route reads them; they stay in the table).
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('paved_tenants', table => {
    table
      .string('uid', 36)
      .nullable()
      .comment('Identifies this tenant among all of the same name, ever');
  });
  for (const { name } of await knex('paved_tenants').select('name')) {
    await knex('paved_tenants').where({ name }).update({ uid: randomUUID() });
  }
  await knex.schema.alterTable('paved_audit_log', table => {
    table.string('tenant_uid', 36).nullable();
    table
      .string('via', 16)
      .notNullable()
      .defaultTo('api')
      .comment('ui, template, cli, api or token');
    table.index(['tenant_uid', 'app', 'id'], 'paved_audit_log_uid_idx');
  });
  await knex('paved_audit_log').update({
    tenant_uid: knex('paved_tenants')
      .select('uid')
      .where('paved_tenants.name', knex.ref('paved_audit_log.tenant')),
  });
  await knex.schema.createTable('paved_deleted_tenants', table => {
    table.comment('Tenants that were deleted, whose audit history is kept');
    table.string('uid', 36).primary().notNullable();
    table.string('name', 63).notNullable();
    table.string('display_name', 255).notNullable();
    table.string('owner', 255).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('deleted_at', { useTz: true }).notNullable();
    table.index(['owner'], 'paved_deleted_tenants_owner_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('paved_deleted_tenants');
  await knex.schema.alterTable('paved_audit_log', table => {
    table.dropIndex(['tenant_uid', 'app', 'id'], 'paved_audit_log_uid_idx');
    table.dropColumn('tenant_uid');
    table.dropColumn('via');
  });
  await knex.schema.alterTable('paved_tenants', table => {
    table.dropColumn('uid');
  });
};
