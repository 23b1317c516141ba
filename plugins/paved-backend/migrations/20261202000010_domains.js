// @ts-check

/**
 * Custom domains, claimed per tenant: the primary key on `domain` is the
 * claim (one tenant holds a domain; two parallel claims of one domain
 * cannot both insert), `app` the app of that tenant that serves it (its
 * purge releases the domain). A
 * certificate the owner brought is kept with it, its private key encrypted
 * like secret env values (SecretBox); both go to the tenant namespace as a
 * kubernetes.io/tls Secret.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('paved_domains', table => {
    table.comment(
      'Custom domains: which tenant (and which of its apps) holds each',
    );
    table.string('domain', 253).primary().notNullable();
    table.string('tenant', 63).notNullable();
    table.string('app', 63).notNullable();
    table.text('certificate').nullable().comment('PEM chain, leaf first');
    table
      .text('private_key')
      .nullable()
      .comment('PEM private key, AES-256-GCM (SecretBox)');
    table.string('not_after', 32).nullable().comment('Certificate expiry, ISO');
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.index(['tenant', 'app'], 'paved_domains_app_idx');
    // Purging an app (or its tenant) releases its domains.
    table
      .foreign(['tenant', 'app'])
      .references(['tenant', 'name'])
      .inTable('paved_apps')
      .onDelete('CASCADE');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('paved_domains');
};
