// @ts-check

/**
 * Whether the app's Secret was last applied (true) or deleted (false), so
 * that a sync of an app without secret env vars deletes the Secret only when
 * there is one, instead of calling the API server every time.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('paved_apps', table => {
    table.boolean('secret_applied').notNullable().defaultTo(false);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('paved_apps', table => {
    table.dropColumn('secret_applied');
  });
};
