//! The OpenAPI document's frame (issue 13): title, description, tags, the
//! bearer scheme, and the schemas the routes' attributes cannot name (a
//! file's bytes). The paths are the server's: `wz_server::app` builds its
//! router and the document from the same `#[utoipa::path]` handlers
//! (utoipa-axum), so a route cannot be served without being described.
//! Every schema is derived from the types that serialise the answers, so
//! `scripts/fuzz-api` (schemathesis) holds real responses to it.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr, ResponseBuilder, Schema};
use utoipa::{Modify, PartialSchema, ToSchema};

/// The security scheme's name in the document: `Authorization: Bearer
/// <token or join code>`.
pub const BEARER: &str = "bearer";

/// The admin token's scheme (`POST /api/sessions`): the same header, a
/// different secret (the server's `--admin-token`).
pub const ADMIN: &str = "admin";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Wenzheng REST API",
        description = "The REST endpoints of a Wenzheng server (docs/protocol.md, section 12). \
Reads answer as the participant whose credential the request carries \
(`Authorization: Bearer <token or join code>`), or as the public screen without one. \
Errors are `{\"code\", \"message\"}` with the protocol's stable codes. \
The WebSocket endpoint `GET /ws` is not described here: OpenAPI cannot describe the messages \
after the upgrade; docs/protocol.md sections 2 to 8 and the generated TypeScript \
(web/src/protocol.ts) do.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "sessions", description = "Sessions, their state as a viewer sees it, and setting them up"),
        (name = "credentials", description = "Who a credential is, reissuing lost ones, printable join cards"),
        (name = "records", description = "The public record and the receipt check (section 11)"),
        (name = "follow-up", description = "Evidence files and the public progress page (issue 8)"),
        (name = "documents", description = "Print documents and spreadsheets (issue 9)"),
        (name = "operations", description = "Health, readiness, metrics and this document"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut OpenApi) {
        let bearer = |description: &str| {
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(description)).build())
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(BEARER, bearer("A participant's token, or their join code (`K7M2Q-8XRT4`)"));
        components.add_security_scheme(ADMIN, bearer("The server's admin token (`--admin-token`), to create sessions"));
    }
}

/// A file's bytes (a PDF, an xlsx, an image): `{"type": "string",
/// "format": "binary"}` under its media type.
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))).into()
    }
}

impl ToSchema for Binary {}

/// Adds the response `status` (a JSON body of schema `T`) to every
/// operation `to` picks that does not describe that status itself: for
/// answers a layer or an extractor in front of the handlers gives (the
/// join-code limit's 429, a path segment of the wrong type).
pub fn add_response<T: ToSchema>(spec: &mut OpenApi, status: &str, description: &str, to: impl Fn(&Operation) -> bool) {
    let name = T::name().into_owned();
    let response = ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(utoipa::openapi::Ref::from_schema_name(&name))).build())
        .build();
    for item in spec.paths.paths.values_mut() {
        let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head, &mut item.options];
        for op in ops.into_iter().flatten().filter(|op| to(op)) {
            op.responses.responses.entry(status.to_owned()).or_insert_with(|| response.clone().into());
        }
    }
    let mut schemas = Vec::new();
    T::schemas(&mut schemas);
    let components = spec.components.get_or_insert_with(Default::default);
    components.schemas.entry(name).or_insert_with(T::schema);
    components.schemas.extend(schemas);
}
