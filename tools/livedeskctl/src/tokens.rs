//! How `livedeskctl` authenticates (TEN-2). A production cluster trusts an
//! identity provider's keys, so the operator brings one of: a ready-made
//! token (`--token`, `--token-file`), the private key whose public half the
//! services verify with (`--private-key`, `--key-id` for a JWKS), or the
//! deployment's HS256 secret (`--secret`). The public development secret is
//! used only when asked for (`--dev`, set by `make run`); with no credential
//! at all `livedeskctl` refuses to call anything.
use std::path::PathBuf;

use livedesk_auth::{Claims, Issuer, Role};
use uuid::Uuid;

/// Lifetime of the tokens `livedeskctl` mints.
const TOKEN_TTL_SECONDS: i64 = 3600;

/// The credential options, from flags or their `LIVEDESK_CTL_*` variables.
#[derive(Debug, Clone, clap::Args)]
pub struct TokenOptions {
    /// A bearer token sent as is with every call (its org is the one acted in).
    #[arg(
        long,
        env = "LIVEDESK_CTL_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// A file holding the bearer token (e.g. a mounted secret).
    #[arg(long, env = "LIVEDESK_CTL_TOKEN_FILE", global = true)]
    pub token_file: Option<PathBuf>,
    /// PEM private key (RSA: RS256, EC P-256: ES256) to mint tokens with; the
    /// services verify them with its public half.
    #[arg(long, env = "LIVEDESK_CTL_PRIVATE_KEY", global = true)]
    pub private_key: Option<PathBuf>,
    /// `kid` of the private key's public half in the services' JWKS.
    #[arg(long, env = "LIVEDESK_CTL_KEY_ID", global = true)]
    pub key_id: Option<String>,
    /// The deployment's HS256 secret to mint tokens with (prefer the variable:
    /// arguments are visible to other users of the machine).
    #[arg(
        long,
        env = "LIVEDESK_CTL_HS256_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub secret: Option<String>,
    /// Mints with the public development secret: for a local suite started
    /// with LIVEDESK_AUTH_ALLOW_DEV_SECRET=true (`make run`) only.
    #[arg(long, env = "LIVEDESK_CTL_DEV", global = true)]
    pub dev: bool,
    /// `iss` of minted tokens (the services' LIVEDESK_AUTH_ISSUER).
    #[arg(
        long,
        env = "LIVEDESK_CTL_ISSUER",
        default_value = "livedesk",
        global = true
    )]
    pub issuer: String,
    /// `aud` of minted tokens (the services' LIVEDESK_AUTH_AUDIENCE).
    #[arg(
        long,
        env = "LIVEDESK_CTL_AUDIENCE",
        default_value = "livedesk-api",
        global = true
    )]
    pub audience: String,
}

/// Parses the `LIVEDESK_CTL_*` variables alone, with the very definitions
/// the flags use.
#[derive(clap::Parser)]
#[command(no_binary_name = true)]
struct EnvOnly {
    #[command(flatten)]
    options: TokenOptions,
}

impl TokenOptions {
    /// Reads the `LIVEDESK_CTL_*` credential variables (no flags).
    pub fn from_env() -> anyhow::Result<Self> {
        use clap::Parser as _;
        Ok(EnvOnly::try_parse_from(std::iter::empty::<String>())?.options)
    }

    /// The one credential the options name; refuses none and several.
    pub fn credential(&self) -> anyhow::Result<Credential> {
        let given: Vec<&str> = [
            ("--token", self.token.is_some()),
            ("--token-file", self.token_file.is_some()),
            ("--private-key", self.private_key.is_some()),
            ("--secret", self.secret.is_some()),
            ("--dev", self.dev),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        if given.len() > 1 {
            anyhow::bail!(
                "choose one credential, not {} (flags or their LIVEDESK_CTL_* variables)",
                given.join(" and ")
            );
        }
        if self.key_id.is_some() && self.private_key.is_none() {
            anyhow::bail!("--key-id names the key of --private-key, which is missing");
        }
        if let Some(token) = &self.token {
            return Credential::bearer(token);
        }
        if let Some(path) = &self.token_file {
            let token = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("--token-file {}: {e}", path.display()))?;
            return Credential::bearer(&token);
        }
        if let Some(path) = &self.private_key {
            let pem = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("--private-key {}: {e}", path.display()))?;
            let issuer = Issuer::from_private_pem(&self.issuer, &self.audience, &pem)
                .map_err(|e| anyhow::anyhow!("--private-key {}: {e}", path.display()))?;
            return Ok(Credential::Key(match &self.key_id {
                Some(kid) => issuer.with_key_id(kid),
                None => issuer,
            }));
        }
        if let Some(secret) = &self.secret {
            if secret.len() < 16 {
                anyhow::bail!("--secret is shorter than the 16 bytes the services require");
            }
            return Ok(Credential::Key(Issuer::hs256(
                &self.issuer,
                &self.audience,
                secret.as_bytes(),
            )));
        }
        if self.dev {
            return Ok(Credential::Key(Issuer::hs256(
                &self.issuer,
                &self.audience,
                livedesk_platform::config::DEV_SECRET.as_bytes(),
            )));
        }
        anyhow::bail!(
            "no credential: pass --token, --token-file, --private-key (with --key-id for a JWKS) \
or --secret (or their LIVEDESK_CTL_* variables); --dev only for a local development suite"
        )
    }
}

/// What `livedeskctl` authenticates with.
#[derive(Clone)]
pub enum Credential {
    /// A token minted elsewhere, sent as is.
    Bearer(String),
    /// A key that mints a token per call.
    Key(Issuer),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Credential::Key(issuer) => f.debug_tuple("Key").field(issuer).finish(),
        }
    }
}

impl Credential {
    fn bearer(token: &str) -> anyhow::Result<Self> {
        let token = token.trim();
        let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
        if token.is_empty() {
            anyhow::bail!("the bearer token is empty");
        }
        Ok(Credential::Bearer(token.to_owned()))
    }

    /// True when tokens of any subject and role can be minted (the demo
    /// acts as an agent, a supervisor and visitors).
    pub fn can_mint(&self) -> bool {
        matches!(self, Credential::Key(_))
    }
}

/// The tokens of one org.
#[derive(Debug, Clone)]
pub struct Tokens {
    credential: Result<Credential, String>,
    pub org: Uuid,
}

impl Tokens {
    /// Mints with an explicit issuer.
    pub fn new(issuer: Issuer, org: Uuid) -> Self {
        Self {
            credential: Ok(Credential::Key(issuer)),
            org,
        }
    }

    /// Tokens of `credential` in `org`. A bearer token acts in its own org
    /// (read from it; `org`, when given, must be the same); a key needs `org`.
    pub fn with_credential(credential: Credential, org: Option<Uuid>) -> anyhow::Result<Self> {
        let org = match (&credential, org) {
            (Credential::Bearer(token), org) => {
                let own = Claims::read_unverified(token)
                    .map_err(|e| anyhow::anyhow!("the bearer token is not a Livedesk JWT: {e}"))?
                    .org;
                if let Some(asked) = org
                    && asked != own
                {
                    anyhow::bail!("the bearer token acts in org {own}, not in --org {asked}");
                }
                own
            }
            (Credential::Key(_), Some(org)) => org,
            (Credential::Key(_), None) => anyhow::bail!("--org (or LIVEDESK_CTL_ORG) is required"),
        };
        Ok(Self {
            credential: Ok(credential),
            org,
        })
    }

    /// Tokens in `org` from the `LIVEDESK_CTL_*` variables.
    pub fn try_from_env(org: Uuid) -> anyhow::Result<Self> {
        Self::with_credential(TokenOptions::from_env()?.credential()?, Some(org))
    }

    /// As [`Tokens::try_from_env`], for callers that cannot fail here: a
    /// missing or unusable credential fails every [`Tokens::mint`] instead,
    /// with the same message (never a fallback to the development secret).
    pub fn from_env(org: Uuid) -> Self {
        Self::try_from_env(org).unwrap_or_else(|e| Self {
            credential: Err(format!("{e:#}")),
            org,
        })
    }

    /// True when tokens of any subject and role can be minted.
    pub fn can_mint(&self) -> bool {
        self.credential.as_ref().is_ok_and(Credential::can_mint)
    }

    /// A token for `sub` with `role` valid for one hour; a bearer token
    /// given as is is returned unchanged, whatever `sub` and `role`.
    pub fn mint(&self, sub: &str, role: Role, name: Option<&str>) -> anyhow::Result<String> {
        match &self.credential {
            Ok(Credential::Bearer(token)) => Ok(token.clone()),
            Ok(Credential::Key(issuer)) => {
                Ok(issuer.mint(self.org, sub, role, name, TOKEN_TTL_SECONDS)?)
            }
            Err(e) => anyhow::bail!("{e}"),
        }
    }
}

/// Adds `authorization: Bearer <token>`.
pub fn authed<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    if let Ok(v) = tonic::metadata::MetadataValue::try_from(format!("Bearer {token}")) {
        req.metadata_mut().insert("authorization", v);
    }
    req
}
