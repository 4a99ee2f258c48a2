//! A deterministic synthetic archive for the crash test: new tickets, replies by References and
//! In-Reply-To, exact duplicates and unthreaded auto-replies, in a fixed order.

/// `n` raw messages. Outcomes are fixed by construction: every 10th message (from the 20th on)
/// repeats an earlier one byte for byte, every 37th is an auto-reply to nothing, every 4th is a
/// customer's reply to the last ticket that customer opened, the rest open tickets.
pub fn archive(n: usize) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(n);
    // Per customer: the Message-ID of the last ticket they opened.
    let mut last_root: Vec<Option<String>> = vec![None; CUSTOMERS];
    for i in 1..=n {
        let customer = (i * 7) % CUSTOMERS;
        let from = format!("user{customer}@cust{}.test", customer % 41);
        let date = date_of(i);
        let message = if i >= 20 && i % 10 == 0 {
            out[i - 7].clone()
        } else if i % 37 == 0 {
            format!(
                "From: Auto Responder <noreply@cust{c}.test>\nTo: support@example.test\n\
                 Subject: Out of office\nDate: {date}\nMessage-ID: <gen.{i}.ooo@cust{c}.test>\n\
                 In-Reply-To: <never-stored.{i}@example.test>\nAuto-Submitted: auto-replied\n\n\
                 Away until further notice.\n",
                c = customer % 41
            )
            .into_bytes()
        } else if let (0, Some(root)) = (i % 4, last_root[customer].clone()) {
            let threading = if i % 8 == 0 {
                format!("In-Reply-To: <{root}>\n")
            } else {
                format!("References: <{root}> <ack.{i}@example.test>\n")
            };
            format!(
                "From: User {customer} <{from}>\nTo: support@example.test\n\
                 Subject: Re: Generated problem\nDate: {date}\n\
                 Message-ID: <gen.{i}.reply@generator.test>\n{threading}\
                 MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n\
                 Follow-up number {i}: still broken.\n\n> earlier text\n"
            )
            .into_bytes()
        } else {
            let id = format!("gen.{i}.root@generator.test");
            last_root[customer] = Some(id.clone());
            format!(
                "From: User {customer} <{from}>\nTo: support@example.test\n\
                 Subject: Generated problem {i}\nDate: {date}\nMessage-ID: <{id}>\n\
                 MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n\
                 Problem report number {i}.\n{filler}\n",
                filler = "The quick brown fox jumps over the lazy dog. ".repeat(1 + i % 5)
            )
            .into_bytes()
        };
        out.push(message);
    }
    out
}

const CUSTOMERS: usize = 173;

fn date_of(i: usize) -> String {
    let day = 1 + (i / 1440) % 28;
    let minutes = i % 1440;
    format!(
        "Mon, {day:02} Jan 2024 {:02}:{:02}:00 +0000",
        minutes / 60,
        minutes % 60
    )
}

#[test]
fn generator_is_deterministic_and_mixed() {
    let a = archive(200);
    assert_eq!(a, archive(200));
    let text: Vec<String> = a
        .iter()
        .map(|m| String::from_utf8(m.clone()).unwrap())
        .collect();
    assert!(text.iter().any(|m| m.contains("References:")));
    assert!(text.iter().any(|m| m.contains("In-Reply-To: <gen.")));
    assert!(text.iter().any(|m| m.contains("Auto-Submitted")));
    assert_eq!(a[29], a[23], "exact duplicates");
}
