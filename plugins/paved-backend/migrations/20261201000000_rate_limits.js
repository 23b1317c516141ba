// @ts-check

/**
 * Write counts per identity and time window, for the API's rate limit. In
 * the database, so every backend replica counts against the same limit.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('paved_rate_limits', table => {
    table.string('identity', 300).notNullable();
    table.bigInteger('window_start').notNullable();
    table.integer('count').notNullable();
    table.primary(['identity', 'window_start']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('paved_rate_limits');
};
