//! Federation: checking what an external identity provider says about a user before STS
//! turns it into a role session (AssumeRoleWithWebIdentity, AssumeRoleWithSAML).
//!
//! - OIDC (`jwt`, `keys`): a web identity token is a JWT signed by its issuer. AWS fetches the
//!   issuer's JWKS from `<issuer>/.well-known/openid-configuration`; Cairn has no network, so
//!   the IAM OIDC provider's registration carries the keys instead: `cairn admin
//!   put-oidc-keys --provider-arn ARN --jwks-file FILE` stores a JWKS (the document the
//!   issuer's `jwks_uri` serves) with the provider, and replaces it when run again (key
//!   rotation). A tag cannot carry them: an RSA modulus alone is longer than a tag value may
//!   be. A provider without keys refuses every token, as AWS does when it cannot reach the
//!   issuer's keys.
//! - SAML (`xml`, `c14n`, `dsig`, `saml`): the Response is XML signed with an enveloped XML
//!   signature (exclusive canonicalization, RSA with SHA-1/SHA-2), verified against the
//!   signing certificates of the provider's metadata document. XML is parsed with quick-xml
//!   into a small tree; canonicalization is written here for the subtree-minus-signature
//!   subsets SAML signs (libxmlsec would bring C libraries into the build).
//!
//! What this module decides is only whether the token or assertion is genuine and what it
//! says; whether it may assume the role is the role's trust policy's to say (`services/sts`).

pub mod c14n;
pub mod dsig;
pub mod jwt;
pub mod keys;
pub mod saml;
pub mod xml;

#[cfg(test)]
mod tests;
