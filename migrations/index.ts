// Every migration, in order. Kysely's Migrator runs them by name; listing them here (instead of
// reading the folder at run time) works the same under tsx, vitest and any bundler.
// Add each new migration file below; names sort in the order they must run.
import type { Migration } from 'kysely';
import * as usersAndSessions from './20261127_0001_users_and_sessions.ts';
import * as sellersAndListings from './20261127_1100_sellers_and_listings.ts';
import * as stripeEvents from './20261127_2000_stripe_events.ts';
import * as orders from './20261127_3100_orders.ts';
import * as adminMoney from './20261127_4000_admin_money.ts';
import * as orderTransitionsRepeatable from './20261127_4100_order_transitions_repeatable.ts';
import * as loginFailures from './20261128_1000_login_failures.ts';
import * as loginFamiliarAddresses from './20261128_1100_login_familiar_addresses.ts';
import * as stripeEventsRawBody from './20261128_1200_stripe_events_raw_body.ts';
import * as enumChecks from './20261128_1300_enum_checks.ts';
import * as signupProbes from './20261128_1300_signup_probes.ts';
import * as sellerNamesUnique from './20261128_1400_seller_names_unique.ts';
import * as listingImages from './20261129_5000_listing_images.ts';
import * as emailOutbox from './20261129_5100_email_outbox.ts';
import * as checkoutTransitionSource from './20261129_6000_checkout_transition_source.ts';
import * as listIndexes from './20261129_6000_list_indexes.ts';
import * as webhookHealth from './20261129_6010_webhook_health.ts';
import * as adminSummaries from './20261129_6020_admin_summaries.ts';
import * as inboxNotify from './20261129_6030_inbox_notify.ts';
import * as buyerCustomers from './20261130_1200_buyer_customers.ts';
import * as savedCards from './20261130_1212_saved_cards.ts';
import * as subscriptions from './20261130_1300_subscriptions.ts';
import * as accountTokens from './20261130_1616_account_tokens.ts';
import * as refundRequests from './20261130_1626_refund_requests.ts';
import * as moderation from './20261130_1636_moderation.ts';
import * as catalogueNotify from './20261130_1717_catalogue_notify.ts';
import * as moderationCatalogueNotify from './20261130_1737_moderation_catalogue_notify.ts';
import * as orderCustomer from './20261130_2312_order_customer.ts';
import * as shipping from './20261130_2340_shipping.ts';
import * as searchCatalogue from './20261130_2345_search_catalogue.ts';
import * as perfInboxNotifyOnRequeue from './20261130_2350_perf_inbox_notify_on_requeue.ts';
import * as outboxLinkScrub from './20261201_0130_outbox_link_scrub.ts';
import * as buyerCustomerDeletion from './20261201_0140_buyer_customer_deletion.ts';
import * as orderIntentRequested from './20261201_0300_order_intent_requested.ts';
import * as stripeEventsCustomer from './20261201_0400_stripe_events_customer.ts';

export const migrations: Record<string, Migration> = {
  '20261127_0001_users_and_sessions': usersAndSessions,
  '20261127_1100_sellers_and_listings': sellersAndListings,
  '20261127_2000_stripe_events': stripeEvents,
  '20261127_3100_orders': orders,
  '20261127_4000_admin_money': adminMoney,
  '20261127_4100_order_transitions_repeatable': orderTransitionsRepeatable,
  '20261128_1000_login_failures': loginFailures,
  '20261128_1100_login_familiar_addresses': loginFamiliarAddresses,
  '20261128_1200_stripe_events_raw_body': stripeEventsRawBody,
  '20261128_1300_enum_checks': enumChecks,
  '20261128_1300_signup_probes': signupProbes,
  '20261128_1400_seller_names_unique': sellerNamesUnique,
  '20261129_5000_listing_images': listingImages,
  '20261129_5100_email_outbox': emailOutbox,
  '20261129_6000_checkout_transition_source': checkoutTransitionSource,
  '20261129_6000_list_indexes': listIndexes,
  '20261129_6010_webhook_health': webhookHealth,
  '20261129_6020_admin_summaries': adminSummaries,
  '20261129_6030_inbox_notify': inboxNotify,
  '20261130_1200_buyer_customers': buyerCustomers,
  '20261130_1212_saved_cards': savedCards,
  '20261130_1300_subscriptions': subscriptions,
  '20261130_1616_account_tokens': accountTokens,
  '20261130_1626_refund_requests': refundRequests,
  '20261130_1636_moderation': moderation,
  '20261130_1717_catalogue_notify': catalogueNotify,
  '20261130_1737_moderation_catalogue_notify': moderationCatalogueNotify,
  '20261130_2312_order_customer': orderCustomer,
  '20261130_2340_shipping': shipping,
  '20261130_2345_search_catalogue': searchCatalogue,
  '20261130_2350_perf_inbox_notify_on_requeue': perfInboxNotifyOnRequeue,
  '20261201_0130_outbox_link_scrub': outboxLinkScrub,
  '20261201_0140_buyer_customer_deletion': buyerCustomerDeletion,
  '20261201_0300_order_intent_requested': orderIntentRequested,
  '20261201_0400_stripe_events_customer': stripeEventsCustomer,
};
