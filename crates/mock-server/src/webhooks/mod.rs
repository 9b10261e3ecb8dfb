//! Webhook endpoints and Standard Webhooks deliveries.

pub mod signing;
