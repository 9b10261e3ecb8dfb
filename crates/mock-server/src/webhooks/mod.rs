//! Webhook endpoints and Standard Webhooks deliveries: signing, the endpoint store with its
//! circuit breaker, real HTTP deliveries, and the `/v1/workspaces/{workspace}/webhooks` API.

pub mod delivery;
pub mod routes;
pub mod signing;
pub mod store;
