// Catalogue search and sorting (issue 16 point 2, issue 17 point 3): a stored tsvector of each
// listing's words with a GIN index, and indexes for every order the catalogue offers.
//
// The text search configuration is fixed ('english'), not the server's default_text_search_config:
// the column is generated and must be immutable, and the query (src/listings/search.ts) must parse
// buyer input with the very same configuration or words would never match. 'english' rather than
// 'simple' because buyers type plurals and verb forms ("mugs", "knitted") of what sellers wrote
// ("mug", "knit"): stemming finds those; listings in other languages still match on exact words.
// The title weighs A and the description B, so ts_rank puts a title match above a mention.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table listings add column search_vector tsvector not null generated always as (
      setweight(to_tsvector('english'::regconfig, title), 'A') || setweight(to_tsvector('english'::regconfig, description), 'B')
    ) stored`.execute(db);
  await sql`create index listings_search_idx on listings using gin (search_vector)`.execute(db);
  // Price up (and, read backwards, price down) with id breaking ties, over active listings, as the
  // newest-first order already has listings_catalogue_idx; and the same two orders within one
  // seller's shop (newest-first there is listings_seller_created_idx).
  await sql`create index listings_price_idx on listings (price_amount, id) where active`.execute(db);
  await sql`create index listings_seller_price_idx on listings (seller_id, price_amount, id) where active`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index listings_seller_price_idx`.execute(db);
  await sql`drop index listings_price_idx`.execute(db);
  await sql`drop index listings_search_idx`.execute(db);
  await sql`alter table listings drop column search_vector`.execute(db);
}
