//! The claims Livedesk tokens carry and the principal handlers see.
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AuthError;

/// The role matrix of TEN-3, from least to most privileged within an org;
/// `Service` is for service-to-service calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Visitor,
    Agent,
    Supervisor,
    Admin,
    Service,
}

impl Role {
    /// Returns the lowercase wire name (`"agent"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Visitor => "visitor",
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Service => "service",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AuthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "visitor" => Ok(Role::Visitor),
            "agent" => Ok(Role::Agent),
            "supervisor" => Ok(Role::Supervisor),
            "admin" => Ok(Role::Admin),
            "service" => Ok(Role::Service),
            other => Err(AuthError::InvalidToken(format!("unknown role {other:?}"))),
        }
    }
}

/// JWT claims read as RFC 7519 says. `org` is the tenant, `sub` the
/// principal id; `exp`, `iss`, `aud` and `sub` are required, `iat` and `nbf`
/// optional (`nbf` is honoured when present).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub org: Uuid,
    pub sub: String,
    pub role: Role,
    pub iss: String,
    pub aud: Audience,
    pub exp: i64,
    /// Issued-at: informative only (RFC 7519 §4.1.6), so tokens of identity
    /// providers that omit it are accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Not-before (RFC 7519 §4.1.5): a token is refused before this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Display name, when the identity provider knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Claims {
    /// Reads a token's claims WITHOUT checking its signature, issuer,
    /// audience or times: for a client that shows what a token it holds
    /// says (livedeskctl's org), never for deciding access.
    pub fn read_unverified(token: &str) -> Result<Self, AuthError> {
        jsonwebtoken::dangerous::insecure_decode_claims::<Self>(token.trim())
            .map_err(|e| AuthError::InvalidToken(e.to_string()))
    }
}

/// The `aud` claim: one audience or several (RFC 7519 §4.1.3 allows both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// Returns true when `audience` is one of the token's audiences.
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(a) => a == audience,
            Audience::Many(all) => all.iter().any(|a| a == audience),
        }
    }
}

/// The authenticated caller of an RPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub org_id: Uuid,
    pub id: String,
    pub role: Role,
    pub name: Option<String>,
}

impl Principal {
    /// Builds a principal (used by tests and by services acting for an org).
    pub fn new(org_id: Uuid, id: impl Into<String>, role: Role) -> Self {
        Self {
            org_id,
            id: id.into(),
            role,
            name: None,
        }
    }

    /// Succeeds when the caller's role is one of `roles`.
    pub fn require(&self, roles: &[Role], action: &'static str) -> Result<(), AuthError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AuthError::Forbidden {
                role: self.role,
                action,
            })
        }
    }

    /// Agents, supervisors and admins: the people who answer customers.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Agent | Role::Supervisor | Role::Admin)
    }

    /// Supervisors, admins and services see everything of their org.
    pub fn sees_whole_org(&self) -> bool {
        matches!(self.role, Role::Supervisor | Role::Admin | Role::Service)
    }

    /// Succeeds for staff (agent, supervisor, admin) and services.
    pub fn require_staff(&self, action: &'static str) -> Result<(), AuthError> {
        self.require(
            &[Role::Agent, Role::Supervisor, Role::Admin, Role::Service],
            action,
        )
    }

    /// Succeeds for supervisors, admins and services.
    pub fn require_supervisor(&self, action: &'static str) -> Result<(), AuthError> {
        self.require(&[Role::Supervisor, Role::Admin, Role::Service], action)
    }

    /// Succeeds for admins and services: configuration and unblock (TEN-3).
    pub fn require_admin(&self, action: &'static str) -> Result<(), AuthError> {
        self.require(&[Role::Admin, Role::Service], action)
    }
}

impl From<Claims> for Principal {
    fn from(c: Claims) -> Self {
        Self {
            org_id: c.org,
            id: c.sub,
            role: c.role,
            name: c.name,
        }
    }
}
