//! Who a mail is from, as far as anything proves it (SPEC 2, Trust). Pure.
//!
//! Every header is a claim by whoever wrote the mail. What authorises anything is only
//!
//! - what our own receiving server attests: the **topmost** `Authentication-Results` header
//!   whose authserv-id is one of `[security] trusted_authserv_ids` (the receiving server adds
//!   its header above every header the sender wrote, and must remove any copy of its own id
//!   that arrives from outside, see SECURITY.md), with `header.from` the From domain; or
//! - what mailgate signed itself (plus-address tokens, Message-IDs; see `reply_token`).
//!
//! [`SenderTrust`] is the first of these for one mail: where its sender address came from
//! ([`SenderOrigin`]) and what the trusted header says about the From domain ([`Attestation`]).

pub mod auth_results;

use crate::domain::{InboundEmail, SenderOrigin};

use auth_results::AuthResults;

/// What the receiving server says about the From domain of a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attestation {
    /// No `[security] trusted_authserv_ids` configured: no header is believed.
    NotConfigured,
    /// No Authentication-Results header of a trusted authserv-id.
    Absent,
    /// The trusted header states no pass and no failure aligned with the From domain.
    Neutral { authserv_id: String },
    /// DMARC, or a DKIM signature of the From domain, passed.
    Pass {
        authserv_id: String,
        method: AuthMethod,
    },
    /// DMARC failed for the From domain: the From address is forged or misconfigured.
    Fail { authserv_id: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Dmarc,
    Dkim,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Dmarc => "dmarc",
            AuthMethod::Dkim => "dkim",
        }
    }
}

/// The sender of one mail and how far it is proven.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderTrust {
    pub origin: SenderOrigin,
    pub attestation: Attestation,
}

impl SenderTrust {
    /// Reads the trust of `email`; `trusted_ids` are the configured authserv-ids (any case).
    pub fn of(email: &InboundEmail, trusted_ids: &[String]) -> SenderTrust {
        let attestation = if trusted_ids.is_empty() {
            Attestation::NotConfigured
        } else {
            let domain = email.from.address.domain();
            match topmost_trusted(&email.headers.authentication_results, trusted_ids) {
                Some(header) => attest(&header, domain),
                None => Attestation::Absent,
            }
        };
        SenderTrust {
            origin: email.sender_origin,
            attestation,
        }
    }

    /// A sender that is the From address and that the receiving server did not say is forged:
    /// it may pass as a participant, an allowed escalation sender or an agent's claim.
    pub fn may_authorise(&self) -> bool {
        self.origin.is_from() && !matches!(self.attestation, Attestation::Fail { .. })
    }

    /// The From address is proven: the trusted header says DMARC or aligned DKIM passed.
    pub fn authenticated(&self) -> bool {
        self.origin.is_from() && matches!(self.attestation, Attestation::Pass { .. })
    }

    /// DMARC itself passed for the From domain (what `require_dmarc_pass` asks for).
    pub fn dmarc_pass(&self) -> bool {
        self.origin.is_from()
            && matches!(
                self.attestation,
                Attestation::Pass {
                    method: AuthMethod::Dmarc,
                    ..
                }
            )
    }

    /// Why this sender may not authorise anything, when it may not (for reasons).
    pub fn unverified_because(&self) -> Option<String> {
        if !self.origin.is_from() {
            return Some(format!(
                "the mail has no usable From address, its sender was taken from {}: unverified",
                self.origin.header()
            ));
        }
        match &self.attestation {
            Attestation::Fail { authserv_id } => Some(format!(
                "{authserv_id} reports dmarc=fail for the From domain: the From address is forged"
            )),
            _ => None,
        }
    }

    /// What the trusted header says, in words (for reasons).
    pub fn describe(&self) -> String {
        match &self.attestation {
            Attestation::NotConfigured => {
                "no trusted Authentication-Results (security.trusted_authserv_ids is empty)".into()
            }
            Attestation::Absent => {
                "no Authentication-Results of a trusted authserv-id (security.trusted_authserv_ids)"
                    .into()
            }
            Attestation::Neutral { authserv_id } => {
                format!("{authserv_id} reports no dmarc or dkim pass for the From domain")
            }
            Attestation::Pass {
                authserv_id,
                method,
            } => format!(
                "{authserv_id} reports {}=pass for the From domain",
                method.as_str()
            ),
            Attestation::Fail { authserv_id } => {
                format!("{authserv_id} reports dmarc=fail for the From domain")
            }
        }
    }
}

/// The topmost header whose authserv-id is trusted, parsed. Headers are in mail order (top
/// first). Stops at the first trusted one: nothing below it is read.
fn topmost_trusted(values: &[String], trusted_ids: &[String]) -> Option<AuthResults> {
    values
        .iter()
        .filter_map(|v| auth_results::parse(v))
        .find(|ar| {
            trusted_ids
                .iter()
                .any(|id| id.trim().eq_ignore_ascii_case(&ar.authserv_id))
        })
}

/// What one trusted header says about `from_domain`. DMARC counts only with `header.from` equal
/// to the From domain; DKIM only with `header.d` the From domain or a parent of it (relaxed
/// alignment). A DMARC failure wins over everything.
fn attest(header: &AuthResults, from_domain: &str) -> Attestation {
    let authserv_id = header.authserv_id.clone();
    let from_domain = from_domain.trim_end_matches('.').to_ascii_lowercase();
    let same = |d: Option<&str>| {
        d.is_some_and(|d| {
            d.trim()
                .trim_end_matches('.')
                .eq_ignore_ascii_case(&from_domain)
        })
    };
    let aligned = |d: Option<&str>| {
        d.is_some_and(|d| {
            let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
            d.contains('.') && (d == from_domain || from_domain.ends_with(&format!(".{d}")))
        })
    };
    let dmarc = header
        .results
        .iter()
        .filter(|r| r.method == "dmarc" && same(r.property("header.from")));
    let mut dmarc_pass = false;
    for r in dmarc {
        match r.result.as_str() {
            "fail" => return Attestation::Fail { authserv_id },
            "pass" => dmarc_pass = true,
            _ => {}
        }
    }
    if dmarc_pass {
        return Attestation::Pass {
            authserv_id,
            method: AuthMethod::Dmarc,
        };
    }
    let dkim_pass = header
        .results
        .iter()
        .any(|r| r.method == "dkim" && r.result == "pass" && aligned(r.property("header.d")));
    if dkim_pass {
        return Attestation::Pass {
            authserv_id,
            method: AuthMethod::Dkim,
        };
    }
    Attestation::Neutral { authserv_id }
}

#[cfg(test)]
mod tests;
