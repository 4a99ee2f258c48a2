//! One message that the database refuses must not take its batch down with it: the batch is
//! rolled back whole, retried message by message, the poison message is quarantined with the
//! reason, and everything else is stored exactly once.

use crate::support::{App, array, str_of, u64_of};

fn mail(n: usize, subject: &str) -> String {
    format!(
        "From MAILER-DAEMON Mon Mar  4 09:00:00 2024\nFrom: Customer {n} <c{n}@acme.test>\nTo: support@example.test\n\
         Subject: {subject}\nMessage-ID: <atom-{n}@acme.test>\nDate: Mon, 4 Mar 2024 09:{n:02}:00 +0000\n\n\
         Mail number {n}.\n\n"
    )
}

/// Makes the database refuse any message whose subject is `poison`, like a disk or constraint
/// failure would, through a trigger created with the library's own SQLite driver.
fn poison_database(app: &App) {
    let url = app.db_url();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(
            "CREATE TRIGGER poison BEFORE INSERT ON messages WHEN NEW.subject = 'poison' \
             BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END",
        )
        .execute(&mut conn)
        .await
        .unwrap();
    });
}

#[test]
fn a_refused_message_is_quarantined_and_the_rest_of_its_batch_is_stored() {
    let app = App::new();
    poison_database(&app);
    let archive: String = (1..=9)
        .map(|n| mail(n, if n == 5 { "poison" } else { "Printer trouble" }))
        .collect();
    let path = app.write_file("archive.mbox", archive.as_bytes());
    let report = app.import(&path, &[]);
    assert_eq!(u64_of(&report, "read"), 9);
    assert_eq!(u64_of(&report, "created"), 8, "{report}");
    assert_eq!(u64_of(&report, "quarantined"), 1, "{report}");

    let tickets = app.tickets();
    assert_eq!(tickets.len(), 8);
    let numbers: Vec<&str> = tickets.iter().map(|t| str_of(t, "ref")).collect();
    assert_eq!(
        numbers,
        [
            "SUP-1", "SUP-2", "SUP-3", "SUP-4", "SUP-5", "SUP-6", "SUP-7", "SUP-8"
        ],
        "no gap in numbering"
    );

    let held = array(app.ok_json(&["quarantine", "list", "--json"]), "quarantine");
    assert_eq!(held.len(), 1);
    assert_eq!(str_of(&held[0], "message_id"), "atom-5@acme.test");
    let reason = str_of(&held[0], "reason");
    assert!(
        reason.starts_with("pipeline-error") && reason.contains("refused by test trigger"),
        "{reason}"
    );

    // Re-running the import changes nothing: no duplicate ticket, the poison stays one entry.
    let again = app.import(&path, &[]);
    assert_eq!(u64_of(&again, "created"), 0, "{again}");
    assert_eq!(u64_of(&again, "duplicates"), 8, "{again}");
    assert_eq!(app.tickets().len(), 8);
    assert_eq!(
        array(app.ok_json(&["quarantine", "list", "--json"]), "quarantine").len(),
        1
    );
}
