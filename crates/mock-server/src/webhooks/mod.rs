//! Webhook endpoints and Standard Webhooks deliveries: signing, the endpoint store with its
//! circuit breaker, real HTTP deliveries, and the `/v1/workspaces/{workspace}/webhooks` API.

pub(crate) mod delivery;
pub(crate) mod routes;
pub(crate) mod signing;
pub(crate) mod store;
