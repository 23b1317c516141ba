// @ts-check

/**
 * Paved's tables. Config lives here; status lives in the cluster.
 * `generation` is the backend's desired revision of a row, bumped by every
 * write; `applied_generation` is the last one the API server accepted. The
 * sync job re-applies every row where they differ (and deletes rows marked
 * `deleting`), so the database and the cluster do not drift.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('paved_tenants', table => {
    table.comment('Tenants: a namespace with RBAC, isolation and quota');
    table.string('name', 63).primary().notNullable();
    table.string('display_name', 255).notNullable();
    table.string('owner', 255).notNullable().comment('Owner group entity ref');
    table.string('plan', 63).notNullable();
    table.text('limits').nullable().comment('JSON overrides of the plan');
    table.boolean('network_isolation').notNullable().defaultTo(true);
    table.integer('generation').notNullable().defaultTo(1);
    table.integer('applied_generation').notNullable().defaultTo(0);
    table.text('last_error').nullable();
    table.boolean('deleting').notNullable().defaultTo(false);
    table.string('created_by', 255).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.index(['owner'], 'paved_tenants_owner_idx');
  });

  await knex.schema.createTable('paved_apps', table => {
    table.comment('Apps: what a user deployed, one row per <tenant>/<app>');
    table
      .string('tenant', 63)
      .notNullable()
      .references('name')
      .inTable('paved_tenants')
      .onDelete('CASCADE');
    table.string('name', 63).notNullable();
    table.string('image', 512).notNullable();
    table.text('spec').notNullable().comment('JSON App spec, secrets as refs');
    table.integer('revision').notNullable().defaultTo(1);
    table.string('redeploy_token', 64).nullable();
    table.integer('generation').notNullable().defaultTo(1);
    table.integer('applied_generation').notNullable().defaultTo(0);
    table.text('last_error').nullable();
    table.boolean('deleting').notNullable().defaultTo(false);
    table.string('created_by', 255).notNullable();
    table.string('updated_by', 255).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.primary(['tenant', 'name']);
  });

  await knex.schema.createTable('paved_app_secrets', table => {
    table.comment('Secret env values, encrypted; they go to a Secret');
    table.string('tenant', 63).notNullable();
    table.string('app', 63).notNullable();
    table.string('name', 128).notNullable().comment('Env var name');
    table.text('ciphertext').notNullable().comment('AES-256-GCM, base64');
    table.primary(['tenant', 'app', 'name']);
    table
      .foreign(['tenant', 'app'])
      .references(['tenant', 'name'])
      .inTable('paved_apps')
      .onDelete('CASCADE');
  });

  await knex.schema.createTable('paved_app_revisions', table => {
    table.comment('Every change of an app config, for history and rollback');
    table.bigIncrements('id').primary();
    table.string('tenant', 63).notNullable();
    table.string('app', 63).notNullable();
    table.integer('revision').notNullable();
    table.string('action', 32).notNullable();
    table.string('image', 512).notNullable();
    table.text('spec').notNullable();
    table.string('actor', 255).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.unique(['tenant', 'app', 'revision'], {
      indexName: 'paved_app_revisions_unique',
    });
  });

  await knex.schema.createTable('paved_audit_log', table => {
    table.comment('Who did what to which tenant or app, and when');
    table.bigIncrements('id').primary();
    table.timestamp('at', { useTz: true }).notNullable();
    table.string('actor', 255).notNullable();
    table.string('principal_type', 16).notNullable();
    table.string('action', 64).notNullable();
    table.string('tenant', 63).notNullable();
    table.string('app', 63).nullable();
    table.text('detail').nullable();
    table.index(['tenant', 'app', 'id'], 'paved_audit_log_target_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('paved_audit_log');
  await knex.schema.dropTable('paved_app_revisions');
  await knex.schema.dropTable('paved_app_secrets');
  await knex.schema.dropTable('paved_apps');
  await knex.schema.dropTable('paved_tenants');
};
