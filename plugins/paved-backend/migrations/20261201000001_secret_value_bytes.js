// @ts-check

/**
 * The byte count of each secret env value, saved with its ciphertext, so an
 * app write checks the 128 KiB env limit without decrypting every stored
 * secret. Rows saved before this have none (null) and are decrypted when
 * counted, until their next write.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('paved_app_secrets', table => {
    table.integer('value_bytes').nullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('paved_app_secrets', table => {
    table.dropColumn('value_bytes');
  });
};
