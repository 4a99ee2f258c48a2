//! The `auth` / `oauth2` settings of mailboxes and `[smtp]`, read from whole config files.

use super::*;
use crate::config::{ConfigError, ConfigIssue, Settings};

const MAILBOX: &str = "[[mailboxes]]\nname = \"support\"\nhost = \"imap.example.test\"\n\
                       username = \"support@example.test\"\n";

fn settings(text: &str) -> Settings {
    Settings::from_toml(text, "t").unwrap_or_else(|e| panic!("{e}"))
}

fn issues(text: &str) -> Vec<ConfigIssue> {
    match Settings::from_toml(text, "t") {
        Err(ConfigError::Invalid { issues, .. }) => issues,
        other => panic!("accepted: {other:?}"),
    }
}

#[test]
fn password_stays_the_default() {
    let s = settings(&format!("{MAILBOX}password_env = \"P\"\n"));
    assert!(s.mailboxes[0].oauth2.is_none());
    assert!(s.mailboxes[0].password.is_some());
    let s = settings(&format!(
        "{MAILBOX}auth = \"password\"\npassword_env = \"P\"\n"
    ));
    assert!(s.mailboxes[0].oauth2.is_none());
}

#[test]
fn a_microsoft_mailbox_gets_the_outlook_scopes_and_its_tenants_endpoints() {
    let s = settings(&format!(
        "{MAILBOX}auth = \"oauth2\"\n[mailboxes.oauth2]\nprovider = \"microsoft\"\n\
         tenant = \"contoso.onmicrosoft.com\"\nclient_id = \"abc-123\"\n\
         client_secret_env = \"SECRET\"\nrefresh_token_file = \"/var/lib/m/support.token\"\n"
    ));
    let o = s.mailboxes[0].oauth2.as_ref().expect("oauth2");
    assert_eq!(
        o.provider,
        Provider::Microsoft {
            tenant: "contoso.onmicrosoft.com".into()
        }
    );
    assert_eq!(o.scopes, MICROSOFT_SCOPES);
    assert_eq!(o.client_secret, Some(SecretSource::Env("SECRET".into())));
    assert_eq!(
        o.provider.token_url(),
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    assert_eq!(
        o.provider.device_authorization_url().as_deref(),
        Some("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode")
    );
    let shown = o.describe();
    assert!(shown.contains("tenant contoso.onmicrosoft.com"), "{shown}");
    assert!(
        shown.contains("with a client secret") && !shown.contains("SECRET"),
        "{shown}"
    );
}

#[test]
fn google_smtp_and_a_public_client() {
    let s = settings(
        "[smtp]\nhost = \"smtp.gmail.com\"\nusername = \"support@example.test\"\n\
         auth = \"oauth2\"\n[smtp.oauth2]\nprovider = \"google\"\nclient_id = \"g\"\n\
         refresh_token_file = \"smtp.token\"\n",
    );
    let smtp = s.smtp.expect("smtp");
    let o = smtp.oauth2.as_ref().expect("oauth2");
    assert_eq!(o.provider, Provider::Google);
    assert_eq!(o.scopes, GOOGLE_SCOPES);
    assert!(o.client_secret.is_none());
    assert!(smtp.password.is_none());
    assert_eq!(
        o.provider.token_url(),
        "https://oauth2.googleapis.com/token"
    );
    let shown = smtp.describe();
    assert!(
        shown.contains("AUTH as support@example.test with OAuth2 (google"),
        "{shown}"
    );
    assert!(shown.contains("public client"), "{shown}");
}

#[test]
fn a_custom_provider_names_its_endpoints_and_scopes() {
    let s = settings(&format!(
        "{MAILBOX}auth = \"oauth2\"\n[mailboxes.oauth2]\nprovider = \"custom\"\n\
         client_id = \"c\"\nclient_secret_file = \"/etc/m/secret\"\n\
         refresh_token_file = \"t\"\ntoken_url = \"http://127.0.0.1:8089/token\"\n\
         device_authorization_url = \"https://id.example.test/device\"\n\
         scopes = [\"imap\", \"smtp\"]\n"
    ));
    let o = s.mailboxes[0].oauth2.as_ref().expect("oauth2");
    assert_eq!(o.provider.token_url(), "http://127.0.0.1:8089/token");
    assert_eq!(
        o.provider.device_authorization_url().as_deref(),
        Some("https://id.example.test/device")
    );
    assert_eq!(o.scopes, ["imap", "smtp"]);
    assert_eq!(
        o.client_secret,
        Some(SecretSource::File("/etc/m/secret".into()))
    );
}

#[test]
fn every_mistake_names_its_line() {
    // line 5: auth = oauth2 without a table; line 6: a password with it.
    let found = issues(&format!(
        "{MAILBOX}auth = \"oauth2\"\npassword_env = \"P\"\n"
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].line, Some(5));
    assert!(
        found[0].message.contains("needs an oauth2 table"),
        "{found:?}"
    );

    let text = format!(
        "{MAILBOX}auth = \"oauth2\"\npassword_env = \"P\"\n[mailboxes.oauth2]\n\
         provider = \"microsoft\"\nclient_id = \"a b\"\nrefresh_token_file = \"t\"\n\
         token_url = \"https://x.test/token\"\n"
    );
    let found = issues(&text);
    let lines: Vec<_> = found.iter().map(|i| (i.line, i.message.as_str())).collect();
    assert!(lines.contains(&(Some(6), "mailbox support: auth = \"oauth2\" signs in with a token; remove password_env / password_file")), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|(l, m)| *l == Some(8) && m.contains("oauth2.tenant is required")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(l, m)| *l == Some(9) && m.contains("oauth2.client_id")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|(l, m)| *l == Some(11)
            && m.contains("oauth2.token_url is not used with provider = \"microsoft\"")),
        "{lines:?}"
    );
}

#[test]
fn a_token_endpoint_in_clear_or_a_missing_one_is_refused() {
    let base = format!(
        "{MAILBOX}auth = \"oauth2\"\n[mailboxes.oauth2]\nprovider = \"custom\"\n\
         client_id = \"c\"\nrefresh_token_file = \"t\"\n"
    );
    let found = issues(&format!(
        "{base}token_url = \"http://id.example.test/token\"\n"
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].line, Some(10));
    assert!(
        found[0].message.contains("must be an https:// URL"),
        "{found:?}"
    );
    let found = issues(&base);
    assert!(
        found[0].message.contains("token_url is required"),
        "{found:?}"
    );
    assert_eq!(found[0].line, Some(7));
}

#[test]
fn a_table_without_auth_oauth2_and_smtp_without_username_are_mistakes() {
    let found = issues(&format!(
        "{MAILBOX}password_env = \"P\"\n[mailboxes.oauth2]\nprovider = \"google\"\n\
         client_id = \"c\"\nrefresh_token_file = \"t\"\n"
    ));
    assert!(
        found[0].message.contains("auth is not \"oauth2\""),
        "{found:?}"
    );
    let found = issues(
        "[smtp]\nhost = \"h\"\nauth = \"oauth2\"\n[smtp.oauth2]\nprovider = \"google\"\n\
         client_id = \"c\"\nrefresh_token_file = \"t\"\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].line, Some(3));
    assert!(found[0].message.contains("needs username"), "{found:?}");
}

#[test]
fn unknown_keys_and_bad_scopes_are_found() {
    let found = issues(&format!(
        "{MAILBOX}auth = \"oauth2\"\n[mailboxes.oauth2]\nprovider = \"google\"\n\
         client_id = \"c\"\nrefresh_token_file = \"t\"\nscopes = []\n"
    ));
    assert!(
        found[0].message.contains("scopes must be a non-empty list"),
        "{found:?}"
    );
    let found = issues(&format!(
        "{MAILBOX}auth = \"oauth2\"\n[mailboxes.oauth2]\nprovider = \"yahoo\"\n\
         client_id = \"c\"\nrefresh_token_file = \"t\"\nrefresh_token = \"x\"\n"
    ));
    assert!(!found.is_empty(), "{found:?}");
    assert!(found.iter().all(|i| i.line.is_some()), "{found:?}");
}
