//! TEMPORARY: differential test against the previous implementation.
#[allow(dead_code, clippy::all)]
#[path = "/tmp/oldreply/old.rs"]
pub(crate) mod old;

use super::extract_reply_for;

fn check(body: &str, what: &str) {
    for fwd in [false, true] {
        let a = old::extract_reply_for(body, fwd);
        let b = extract_reply_for(body, fwd);
        assert_eq!(a, b, "{what} fwd={fwd}: {body:?}");
    }
}

#[test]
fn same_as_before_on_archive() {
    let Ok(data) = std::fs::read("/tmp/x.mbox") else {
        return;
    };
    let mut n = 0;
    for msg in mail_parser::mailbox::mbox::MessageIterator::new(std::io::Cursor::new(data)) {
        let msg = msg.unwrap();
        if let Ok(mail) = crate::parse::parse(msg.contents()) {
            check(&mail.body_text, "archive");
            n += 1;
        }
    }
    eprintln!("{n} archive bodies compared");
}

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "",
    " ",
    "\t",
    "> ",
    ">",
    "  > ",
    "*",
    "**",
    "* *",
    "-- ",
    "--",
    "---",
    "-----",
    "_____",
    "______________________________",
    "──────",
    "━━━━━",
    "=====",
    "On ",
    "ON ",
    "on",
    "Once ",
    "Le ",
    "LE ",
    "Am ",
    "El ",
    "EL DÍA ",
    "El día ",
    "Il ",
    "Op ",
    "Em ",
    "Den ",
    "PÅ ",
    "På ",
    "W dniu ",
    "Dne ",
    "Pada ",
    "В ",
    "в ",
    "ΣΤΙΣ ",
    "Στις ",
    "στις ",
    "在 ",
    "İl ",
    "\u{212A}",
    "Σ",
    "ς",
    "Mon, Mar 3, 2025 ",
    "X <x@example.com> ",
    "2025-03-03 10:00 ",
    "<a@b.c>",
    "wrote",
    "WROTE",
    "rewrote",
    "writes",
    "a écrit",
    "A ÉCRIT",
    "schrieb",
    "Schrieb",
    "escribió",
    "написал",
    "НАПИСАЛ",
    "έγραψε",
    "ΈΓΡΑΨΕ",
    "写道",
    "寫道",
    "írta",
    "napisał(a)",
    ":",
    "：",
    " :",
    "\u{3000}",
    "From",
    "FROM",
    "from",
    "Von",
    "De",
    "Från",
    "От",
    "差出人",
    "Sent",
    "Date",
    "Gesendet",
    "Envoyé",
    "To",
    "An",
    "À",
    "Cc",
    "Kopie",
    "Subject",
    "Betreff",
    "Objet",
    "件名",
    "Reply-To",
    "Antwort an",
    "Répondre à",
    "Fecha",
    "Asunto",
    "Enviada em",
    "Original Message",
    "ORIGINAL MESSAGE",
    "Ursprüngliche Nachricht",
    "Message d’origine",
    "Исходное сообщение",
    "Reply Message",
    "Forwarded message",
    "FORWARDED MESSAGE",
    "Begin forwarded message",
    "Weitergeleitete Nachricht",
    "Forwarded by",
    "Пересылаемое сообщение",
    "Sent from my ",
    "SENT FROM MY ",
    "Sent from ",
    "Sent via ",
    "iPhone",
    "Outlook",
    "Get Outlook for ",
    "Envoyé de mon ",
    "Von meinem ",
    "から送信",
    "從我的",
    "(",
    "<",
    "_",
    "[1]: https://x.y",
    "[2]: http://z",
    "[1]",
    "[2]",
    "[12345]: u",
    "[]: x",
    "hello",
    "Hello world",
    "x",
    "ünïcödé",
    "ÄÖÜ",
    "ß",
    "\u{130}",
    "\r",
    "é",
    "a",
    "the",
    "1.",
    "see:",
    "Steps:",
];

fn random_body(rng: &mut XorShift) -> String {
    let lines = rng.below(14);
    let mut out = String::new();
    for _ in 0..lines {
        let parts = rng.below(6);
        for _ in 0..parts {
            out.push_str(PIECES[rng.below(PIECES.len())]);
        }
        out.push('\n');
    }
    out
}

#[test]
fn same_as_before_on_random_bodies() {
    let mut rng = XorShift(0x1234_5678_9abc_def1);
    for round in 0..3_000_000 {
        let body = random_body(&mut rng);
        check(&body, &format!("round {round}"));
    }
}

#[test]
fn same_as_before_on_fixtures_and_cases() {
    for path in crate::parse::golden_tests::fixture_files() {
        let raw = std::fs::read(&path).unwrap();
        if let Ok(mail) = crate::parse::parse(&raw) {
            check(&mail.body_text, &path.display().to_string());
        }
    }
    for (name, body, _) in super::tests::CASES {
        check(body, name);
    }
}
