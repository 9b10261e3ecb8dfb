//! Network policy: CIDR allowlists and the client address behind trusted proxies.
