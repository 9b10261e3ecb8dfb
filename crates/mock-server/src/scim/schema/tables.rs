//! The tables of [`super`]: RFC 7643's common attributes (section 3.1), the
//! core User schema (section 4.1) and the enterprise User extension (section
//! 4.3), one row per attribute with its type, mutability, returned and
//! uniqueness, as section 8.7.1 publishes them.

use super::{AttrType, Attribute, Mutability, Returned, Schema, Uniqueness};
use super::{CORE_USER, ENTERPRISE_USER};

const PRIMARY: Attribute = Attribute::boolean(
    "primary",
    "A Boolean value indicating the 'primary' or preferred attribute value for this attribute. The primary attribute value 'true' MUST appear no more than once.",
);

const DISPLAY: Attribute = Attribute::string(
    "display",
    "A human-readable name, primarily used for display purposes. READ-ONLY.",
);

/// The common attributes of RFC 7643 section 3.1.
pub(crate) static COMMON_ATTRIBUTES: &[Attribute] = &[
    Attribute::reference(
        "schemas",
        "The schema URIs the resource conforms to.",
        &["uri"],
    )
    .multi()
    .required()
    .returned(Returned::Always),
    Attribute::string(
        "id",
        "A unique identifier for a SCIM resource as defined by the service provider.",
    )
    .case_exact()
    .read_only()
    .required()
    .returned(Returned::Always)
    .uniqueness(Uniqueness::Server),
    Attribute::string(
        "externalId",
        "A String that is an identifier for the resource as defined by the provisioning client.",
    )
    .case_exact(),
    Attribute::complex(
        "meta",
        "A complex attribute containing resource metadata.",
        &[
            Attribute::string("resourceType", "The name of the resource type of the resource.")
                .case_exact()
                .read_only(),
            Attribute::new(
                "created",
                AttrType::DateTime,
                "The DateTime that the resource was added to the service provider.",
            )
            .read_only(),
            Attribute::new(
                "lastModified",
                AttrType::DateTime,
                "The most recent DateTime that the details of this resource were updated at the service provider.",
            )
            .read_only(),
            Attribute::reference("location", "The URI of the resource being returned.", &["uri"])
                .read_only(),
            Attribute::string("version", "The version of the resource being returned.")
                .case_exact()
                .read_only(),
        ],
    )
    .read_only(),
];

/// The core User schema (RFC 7643 sections 4.1 and 8.7.1).
pub(crate) static USER_SCHEMA: Schema = Schema {
    id: CORE_USER,
    name: "User",
    description: "User Account",
    attributes: &[
        Attribute::string(
            "userName",
            "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Each User MUST include a non-empty userName value. This identifier MUST be unique across the service provider's entire set of Users. REQUIRED.",
        )
        .required()
        .uniqueness(Uniqueness::Server),
        Attribute::complex(
            "name",
            "The components of the user's real name.",
            &[
                Attribute::string(
                    "formatted",
                    "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display.",
                ),
                Attribute::string("familyName", "The family name of the User, or last name."),
                Attribute::string("givenName", "The given name of the User, or first name."),
                Attribute::string("middleName", "The middle name(s) of the User."),
                Attribute::string(
                    "honorificPrefix",
                    "The honorific prefix(es) of the User, or title in most Western languages.",
                ),
                Attribute::string(
                    "honorificSuffix",
                    "The honorific suffix(es) of the User, or suffix in most Western languages.",
                ),
            ],
        ),
        Attribute::string(
            "displayName",
            "The name of the User, suitable for display to end-users.",
        ),
        Attribute::string("nickName", "The casual way to address the user in real life."),
        Attribute::reference(
            "profileUrl",
            "A fully qualified URL pointing to a page representing the User's online profile.",
            &["external"],
        ),
        Attribute::string("title", "The user's title, such as \"Vice President.\""),
        Attribute::string(
            "userType",
            "Used to identify the relationship between the organization and the user.",
        ),
        Attribute::string(
            "preferredLanguage",
            "Indicates the User's preferred written or spoken language.",
        ),
        Attribute::string(
            "locale",
            "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations.",
        ),
        Attribute::string(
            "timezone",
            "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'.",
        ),
        Attribute::boolean("active", "A Boolean value indicating the User's administrative status."),
        Attribute {
            mutability: Mutability::WriteOnly,
            ..Attribute::string(
                "password",
                "The User's cleartext password. This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.",
            )
        }
        .returned(Returned::Never),
        Attribute::complex(
            "emails",
            "Email addresses for the user.",
            &[
                Attribute::string("value", "Email addresses for the user."),
                DISPLAY,
                Attribute::string(
                    "type",
                    "A label indicating the attribute's function, e.g., 'work' or 'home'.",
                )
                .canonical(&["work", "home", "other"]),
                PRIMARY,
            ],
        )
        .multi(),
        Attribute::complex(
            "phoneNumbers",
            "Phone numbers for the User.",
            &[
                Attribute::string("value", "Phone number of the User."),
                DISPLAY,
                Attribute::string(
                    "type",
                    "A label indicating the attribute's function, e.g., 'work', 'home', 'mobile'.",
                )
                .canonical(&["work", "home", "mobile", "fax", "pager", "other"]),
                PRIMARY,
            ],
        )
        .multi(),
        Attribute::complex(
            "ims",
            "Instant messaging addresses for the User.",
            &[
                Attribute::string("value", "Instant messaging address for the User."),
                DISPLAY,
                Attribute::string(
                    "type",
                    "A label indicating the attribute's function, e.g., 'aim', 'gtalk', 'xmpp'.",
                )
                .canonical(&["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
                PRIMARY,
            ],
        )
        .multi(),
        Attribute::complex(
            "photos",
            "URLs of photos of the User.",
            &[
                Attribute::reference("value", "URL of a photo of the User.", &["external"]),
                DISPLAY,
                Attribute::string(
                    "type",
                    "A label indicating the attribute's function, i.e., 'photo' or 'thumbnail'.",
                )
                .canonical(&["photo", "thumbnail"]),
                PRIMARY,
            ],
        )
        .multi(),
        Attribute::complex(
            "addresses",
            "A physical mailing address for this User.",
            &[
                Attribute::string(
                    "formatted",
                    "The full mailing address, formatted for display or use with a mailing label.",
                ),
                Attribute::string(
                    "streetAddress",
                    "The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information.",
                ),
                Attribute::string("locality", "The city or locality component."),
                Attribute::string("region", "The state or region component."),
                Attribute::string("postalCode", "The zip code or postal code component."),
                Attribute::string("country", "The country name component."),
                Attribute::string(
                    "type",
                    "A label indicating the attribute's function, e.g., 'work' or 'home'.",
                )
                .canonical(&["work", "home", "other"]),
                PRIMARY,
            ],
        )
        .multi(),
        Attribute::complex(
            "groups",
            "A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.",
            &[
                Attribute::string("value", "The identifier of the User's group.").read_only(),
                Attribute::reference(
                    "$ref",
                    "The URI of the corresponding 'Group' resource to which the user belongs.",
                    &["User", "Group"],
                )
                .read_only(),
                DISPLAY.read_only(),
                Attribute::string(
                    "type",
                    "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.",
                )
                .canonical(&["direct", "indirect"])
                .read_only(),
            ],
        )
        .multi()
        .read_only(),
        Attribute::complex(
            "entitlements",
            "A list of entitlements for the User that represent a thing the User has.",
            &[
                Attribute::string("value", "The value of an entitlement."),
                DISPLAY,
                Attribute::string("type", "A label indicating the attribute's function."),
                PRIMARY,
            ],
        )
        .multi(),
        Attribute::complex(
            "roles",
            "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.",
            &[
                Attribute::string("value", "The value of a role."),
                DISPLAY,
                Attribute::string("type", "A label indicating the attribute's function."),
                PRIMARY,
            ],
        )
        .multi(),
        Attribute::complex(
            "x509Certificates",
            "A list of certificates issued to the User.",
            &[
                Attribute::new(
                    "value",
                    AttrType::Binary,
                    "The value of an X.509 certificate.",
                ),
                DISPLAY,
                Attribute::string("type", "A label indicating the attribute's function."),
                PRIMARY,
            ],
        )
        .multi(),
    ],
};

/// The enterprise User extension (RFC 7643 sections 4.3 and 8.7.1).
pub(crate) static ENTERPRISE_USER_SCHEMA: Schema = Schema {
    id: ENTERPRISE_USER,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &[
        Attribute::string(
            "employeeNumber",
            "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization.",
        ),
        Attribute::string("costCenter", "Identifies the name of a cost center."),
        Attribute::string("organization", "Identifies the name of an organization."),
        Attribute::string("division", "Identifies the name of a division."),
        Attribute::string("department", "Identifies the name of a department."),
        Attribute::complex(
            "manager",
            "The User's manager. A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User.",
            &[
                Attribute::string(
                    "value",
                    "The id of the SCIM resource representing the User's manager.",
                ),
                Attribute::reference(
                    "$ref",
                    "The URI of the SCIM resource representing the User's manager.",
                    &["User"],
                ),
                Attribute::string("displayName", "The displayName of the User's manager.")
                    .read_only(),
            ],
        ),
    ],
};

/// Every schema a User resource may use, core first.
pub(crate) static USER_SCHEMAS: [&Schema; 2] = [&USER_SCHEMA, &ENTERPRISE_USER_SCHEMA];
