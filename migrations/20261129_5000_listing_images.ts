// Listing pictures (issue 16, point 1).
//
// Each row is one uploaded picture of a listing, already resized into its display sizes; the bytes
// live in object storage (files under DATA_DIR, or an S3-compatible bucket) under the keys stored
// here. Keys contain the row id and a hash of the bytes, so a URL never changes meaning and can be
// cached forever.
//
// At most eight per listing, held by the database itself: `position` is 0..7 and unique per
// listing, so a ninth row cannot exist whatever the application does. The uniqueness is deferred
// to commit so a reorder can swap two positions in one transaction. The same picture (same bytes)
// twice on one listing is refused by `listing_images_once`.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('listing_images')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('listing_id', 'uuid', (c) => c.notNull().references('listings.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull().check(sql`position between 0 and 7`))
    // SHA-256 of the uploaded bytes, hex.
    .addColumn('content_hash', 'text', (c) => c.notNull().check(sql`content_hash ~ '^[0-9a-f]{64}$'`))
    .addColumn('thumb_key', 'text', (c) => c.notNull())
    .addColumn('thumb_width', 'integer', (c) => c.notNull().check(sql`thumb_width > 0`))
    .addColumn('thumb_height', 'integer', (c) => c.notNull().check(sql`thumb_height > 0`))
    .addColumn('large_key', 'text', (c) => c.notNull())
    .addColumn('large_width', 'integer', (c) => c.notNull().check(sql`large_width > 0`))
    .addColumn('large_height', 'integer', (c) => c.notNull().check(sql`large_height > 0`))
    .addColumn('bytes', 'integer', (c) => c.notNull().check(sql`bytes > 0`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('listing_images_once', ['listing_id', 'content_hash'])
    .execute();
  await sql`alter table listing_images add constraint listing_images_position_unique
            unique (listing_id, position) deferrable initially deferred`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('listing_images').execute();
}
