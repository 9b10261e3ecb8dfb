//! The route table: every (method, path) the mock serves, in one list.
//!
//! The mock routes requests by [`ROUTES`] (`dispatch::RouteTable`), and a test holds the same
//! list against `schemas/openapi.json` (same methods, paths and `operationId`s), so the
//! routing and the document cannot drift apart. Adding an endpoint means one row here, one operation in
//! the document, and the handler.

use std::future::Future;
use std::pin::Pin;

use axum::extract::Request;
use axum::response::Response;
use http::Method;

use crate::api::{admin, discovery, factors, harness, network_policy, sessions, step_up, users};
use crate::scim::routes as scim;
use crate::state::AppState;
use crate::webhooks::routes as webhooks;

/// What a route's handler returns: axum's boxed handler future.
pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

/// An HTTP method the table uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verb {
    /// GET (HEAD is answered by the GET route, without the body).
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl Verb {
    /// The method name in upper case (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }

    /// The verb as an `http` method, for matching requests.
    pub(crate) fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Put => Method::PUT,
            Verb::Patch => Method::PATCH,
            Verb::Delete => Method::DELETE,
        }
    }
}

/// Which middleware a route sits behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Discovery and admin: no workspace guard, no rate limit.
    Public,
    /// `/v1/workspaces/{workspace}/...`: behind the workspace guard (`guard.rs`).
    Workspace,
    /// `/scim/v2/...`: behind the SCIM routes' own guard (`scim::routes::admit`, run by the
    /// route table).
    Scim,
}

/// One row of the table.
#[derive(Clone, Copy)]
pub struct Route {
    /// The HTTP method the route answers (each path and verb is one row).
    pub verb: Verb,
    /// The path in matchit (and OpenAPI) template syntax: `/v1/workspaces/{workspace}/users`.
    pub path: &'static str,
    /// The OpenAPI `operationId`.
    pub operation_id: &'static str,
    /// The middleware it sits behind.
    pub scope: Scope,
    /// Calls the axum handler with the request and the state.
    pub(crate) handler: fn(Request, AppState) -> HandlerFuture,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} ({})",
            self.verb.as_str(),
            self.path,
            self.operation_id
        )
    }
}

macro_rules! route {
    ($verb:ident $path:literal $op:literal $scope:ident => $handler:path) => {
        Route {
            verb: Verb::$verb,
            path: $path,
            operation_id: $op,
            scope: Scope::$scope,
            handler: |request, state| axum::handler::Handler::call($handler, request, state),
        }
    };
}

/// Every route. SCIM and webhook routes are added here by their modules' authors (scopes
/// `Scim` and `Workspace`).
pub static ROUTES: &[Route] = &[
    // Discovery and administration.
    route!(Get "/openapi.json" "getOpenApi" Public => discovery::openapi),
    route!(Get "/docs/errors" "getErrorReference" Public => discovery::error_reference),
    route!(Get "/docs/errors.json" "getErrorCatalog" Public => discovery::error_catalog),
    route!(Get "/problem.schema.json" "getProblemSchema" Public => discovery::problem_schema),
    route!(Get "/scim-error.schema.json" "getScimErrorSchema" Public => discovery::scim_error_schema),
    route!(Get "/catalog.schema.json" "getCatalogSchema" Public => discovery::catalog_schema),
    route!(Get "/healthz" "getHealth" Public => discovery::healthz),
    route!(Post "/admin/reset" "resetState" Public => admin::reset),
    // The harness for client teams: fault rules and the request journal.
    route!(Get "/admin/faults" "listFaultRules" Public => harness::list_faults),
    route!(Post "/admin/faults" "addFaultRule" Public => harness::add_fault),
    route!(Delete "/admin/faults" "clearFaultRules" Public => harness::clear_faults),
    route!(Delete "/admin/faults/{rule_id}" "removeFaultRule" Public => harness::remove_fault),
    route!(Get "/admin/requests" "listRequests" Public => harness::list_requests),
    // Sign-in.
    route!(Post "/v1/workspaces/{workspace}/sessions" "signIn" Workspace => sessions::sign_in),
    // Users.
    route!(Get "/v1/workspaces/{workspace}/users" "listUsers" Workspace => users::list),
    route!(Post "/v1/workspaces/{workspace}/users" "inviteUser" Workspace => users::invite),
    route!(Get "/v1/workspaces/{workspace}/users/{user_id}" "getUser" Workspace => users::get),
    route!(Delete "/v1/workspaces/{workspace}/users/{user_id}" "deleteUser" Workspace => users::delete),
    // MFA and step-up.
    route!(Get "/v1/workspaces/{workspace}/factors" "listFactors" Workspace => factors::list),
    route!(Post "/v1/workspaces/{workspace}/factors" "enrolFactor" Workspace => factors::enrol),
    route!(Post "/v1/workspaces/{workspace}/factors/webauthn/options" "webauthnRegistrationOptions" Workspace => factors::registration_options),
    route!(Delete "/v1/workspaces/{workspace}/users/{user_id}/factors/{factor_id}" "removeFactor" Workspace => factors::remove),
    route!(Post "/v1/workspaces/{workspace}/step-up" "stepUp" Workspace => step_up::create),
    route!(Post "/v1/workspaces/{workspace}/step-up/options" "stepUpOptions" Workspace => step_up::options),
    // Network policy.
    route!(Get "/v1/workspaces/{workspace}/network-policy" "getNetworkPolicy" Workspace => network_policy::get),
    route!(Put "/v1/workspaces/{workspace}/network-policy" "putNetworkPolicy" Workspace => network_policy::put),
    // Webhooks.
    route!(Get "/v1/workspaces/{workspace}/webhooks" "listWebhooks" Workspace => webhooks::list),
    route!(Post "/v1/workspaces/{workspace}/webhooks" "createWebhook" Workspace => webhooks::create),
    route!(Delete "/v1/workspaces/{workspace}/webhooks/{webhook_id}" "deleteWebhook" Workspace => webhooks::delete),
    route!(Post "/v1/workspaces/{workspace}/webhooks/{webhook_id}/disable" "disableWebhook" Workspace => webhooks::disable),
    route!(Post "/v1/workspaces/{workspace}/webhooks/{webhook_id}/enable" "enableWebhook" Workspace => webhooks::enable),
    route!(Post "/v1/workspaces/{workspace}/webhooks/{webhook_id}/rotate-secret" "rotateWebhookSecret" Workspace => webhooks::rotate_secret),
    route!(Post "/v1/workspaces/{workspace}/webhooks/{webhook_id}/test" "testWebhook" Workspace => webhooks::test),
    // SCIM 2.0.
    route!(Get "/scim/v2/Users" "scimListUsers" Scim => scim::list_users),
    route!(Post "/scim/v2/Users" "scimCreateUser" Scim => scim::create_user),
    route!(Post "/scim/v2/Users/.search" "scimSearchUsers" Scim => scim::search),
    route!(Post "/scim/v2/.search" "scimSearch" Scim => scim::search),
    route!(Get "/scim/v2/Users/{id}" "scimGetUser" Scim => scim::get_user),
    route!(Put "/scim/v2/Users/{id}" "scimReplaceUser" Scim => scim::replace_user),
    route!(Patch "/scim/v2/Users/{id}" "scimPatchUser" Scim => scim::patch_user),
    route!(Delete "/scim/v2/Users/{id}" "scimDeleteUser" Scim => scim::delete_user),
    route!(Get "/scim/v2/ServiceProviderConfig" "scimServiceProviderConfig" Scim => scim::service_provider_config),
    route!(Get "/scim/v2/ResourceTypes" "scimListResourceTypes" Scim => scim::resource_types),
    route!(Get "/scim/v2/ResourceTypes/{id}" "scimGetResourceType" Scim => scim::resource_type),
    route!(Get "/scim/v2/Schemas" "scimListSchemas" Scim => scim::schemas),
    route!(Get "/scim/v2/Schemas/{id}" "scimGetSchema" Scim => scim::schema),
];
