//! OAuth2 sign-in (issue 17). So far: `config check` of `auth = "oauth2"` mailboxes and
//! `[smtp]` (what it shows, never a secret; mistakes by line). Sign-in itself is tested in the
//! unit tests of `oauth`, `imap::oauth_login` and `delivery::smtp_oauth` (scripted servers, a
//! local token endpoint); the mail stack has no OAuth2 server yet.

use crate::support::*;

const CONFIG: &str = r#"[[mailboxes]]
name = "support"
host = "outlook.office365.com"
username = "support@contoso.test"
auth = "oauth2"

[mailboxes.oauth2]
provider = "microsoft"
tenant = "contoso.onmicrosoft.com"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret_env = "MAILGATE_OAUTH_SECRET"
refresh_token_file = "support.token"

[smtp]
host = "smtp.gmail.com"
username = "support@contoso.test"
auth = "oauth2"

[smtp.oauth2]
provider = "google"
client_id = "g-client"
refresh_token_file = "smtp.token"
"#;

#[test]
fn config_check_shows_how_each_account_signs_in_and_no_secret() {
    let app = App::with_config(CONFIG);
    app.write_file("support.token", b"refresh-token-never-shown\n");
    let run = app.run_with_env(
        &["config", "check"],
        &[("MAILGATE_OAUTH_SECRET", "client-secret-never-shown")],
    );
    run.expect_success();
    let out = run.output();
    assert!(
        out.contains(
            "support (support) outlook.office365.com, signs in with OAuth2 (microsoft, tenant \
             contoso.onmicrosoft.com, client 11111111-2222-3333-4444-555555555555, with a \
             client secret, refresh token in support.token)"
        ),
        "{run}"
    );
    assert!(
        out.contains("AUTH as support@contoso.test with OAuth2 (google, client g-client, public client, refresh token in smtp.token)"),
        "{run}"
    );
    assert!(
        out.contains("warning: smtp: the refresh token file smtp.token cannot be read"),
        "{run}"
    );
    assert!(!out.contains("warning: mailbox support"), "{run}");
    assert!(!out.contains("never-shown"), "{run}");
}

#[test]
fn config_check_names_the_line_of_each_oauth2_mistake() {
    let app = App::with_config_unmigrated(
        r#"[[mailboxes]]
name = "support"
host = "imap.example.test"
username = "support@example.test"
auth = "oauth2"
password_env = "P"

[mailboxes.oauth2]
provider = "custom"
client_id = "c"
refresh_token_file = "t"
token_url = "http://id.example.test/token"
"#,
    );
    let run = app.run(&["config", "check"]);
    run.expect_code(1);
    let out = run.output();
    assert!(
        out.contains(":6: mailbox support: auth = \"oauth2\" signs in with a token"),
        "{run}"
    );
    assert!(
        out.contains(":12: mailbox support: oauth2.token_url \"http://id.example.test/token\" must be an https:// URL"),
        "{run}"
    );
}
