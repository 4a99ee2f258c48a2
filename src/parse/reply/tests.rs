use super::*;

/// (name, mail body, expected reply)
const CASES: &[(&str, &str, &str)] = &[
    (
        "plain text is kept",
        "Hello,\n\nmy printer is broken.\n\nJane\n",
        "Hello,\n\nmy printer is broken.\n\nJane",
    ),
    ("empty stays empty", "", ""),
    (
        "gmail top-posting",
        "Thanks, that fixed it!\n\nOn Mon, Mar 3, 2025 at 10:00 AM Support <support@example.com> wrote:\n\n> Hello Jane,\n>\n> please restart the router.\n",
        "Thanks, that fixed it!",
    ),
    (
        "gmail attribution wrapped over two lines",
        "Sure, it works now.\n\nOn Thu, Jun 20, 2013 at 4:18 PM, matt2 via Support Desk <\nsupport@example.com> wrote:\n\n> Has anyone tried?\n",
        "Sure, it works now.",
    ),
    (
        "attribution followed by unquoted history (html converted without blockquote)",
        "Thank you.\n\nOn Sun, Feb 7, 2016 at 12:12 AM -0800, \"Agent\" <agent@example.com> wrote:\n\nHi,\nthe update is done.\n",
        "Thank you.",
    ),
    (
        "apple mail: attribution inside the quote",
        "Works for me.\n\nJane\n\n> On 3 Mar 2025, at 10:00, Support <support@example.com> wrote:\n> \n> Please try again.\n",
        "Works for me.\n\nJane",
    ),
    (
        "thunderbird bottom-posting",
        "On 03/03/2025 10:00, Support wrote:\n> Did the restart help?\n\nYes, thank you!\n",
        "Yes, thank you!",
    ),
    (
        "inline interleaved answers keep only the new lines",
        "On Mon, Mar 3, 2025 at 10:00 AM Support <s@example.com> wrote:\n> Which version do you run?\n\n2.4.1\n\n> And which OS?\n\nWindows 11.\n\n> Anything else?\n",
        "2.4.1\n\nWindows 11.",
    ),
    (
        "quoted block in the middle, text before and after",
        "See my answers below.\n> question one\n> question two\nAnswer to both: no.\n",
        "See my answers below.\n\nAnswer to both: no.",
    ),
    (
        "outlook original message separator",
        "I still get the error.\n\n-----Original Message-----\nFrom: Support [mailto:support@example.com]\nSent: Monday, March 3, 2025 10:00 AM\nTo: Jane\nSubject: RE: error\n\nPlease send a screenshot.\n",
        "I still get the error.",
    ),
    (
        "outlook underscore separator and header block",
        "Please see attached.\n\nRegards,\nJane Doe\n\n________________________________\nFrom: Support <support@example.com>\nSent: Monday, March 3, 2025 10:00\nTo: Jane Doe <jane@example.com>\nSubject: Ticket 42\n\nHello Jane\n",
        "Please see attached.\n\nRegards,\nJane Doe",
    ),
    (
        "bold header block under a box-drawing rule (markdown-style html2text output)",
        "Done.\n\n──────────────────────────────────────────\n**From:** Support <support@example.com>\n**Sent:** Monday, March 3, 2025 10:00 AM\n**To:** Jane\n**Subject:** RE: Ticket\n\nOld text\n",
        "Done.",
    ),
    (
        "header block without separator (outlook for mac)",
        "New info: it fails on Tuesdays.\n\nFrom: Support <support@example.com>\nDate: Monday, 3 March 2025 at 10:00\nTo: Jane <jane@example.com>\nSubject: Re: Ticket\n\nOld text\n",
        "New info: it fails on Tuesdays.",
    ),
    (
        "dashed rule above a bold header block",
        "This is a reply from Outlook!\n\n\n ------------------------------\n\n*From:* Outlook user\n*Sent:* 2016-01-27\n*To:* info@example.com\n*Subject:* Are you using Outlook?\n\nJust some random text\n",
        "This is a reply from Outlook!",
    ),
    (
        "a lone From: line in the text is not a header block",
        "From: the warehouse, two boxes arrived.\nTo: be honest, both were damaged.\n",
        "From: the warehouse, two boxes arrived.\nTo: be honest, both were damaged.",
    ),
    (
        "german outlook",
        "Danke!\n\nVon: Support <support@example.com>\nGesendet: Montag, 3. März 2025 10:00\nAn: Max <max@example.de>\nBetreff: AW: Ticket\n\nHallo Max\n",
        "Danke!",
    ),
    (
        "german attribution",
        "Passt, danke.\n\nAm 03.03.2025 um 10:00 schrieb Support <support@example.com>:\n> Bitte neu starten.\n",
        "Passt, danke.",
    ),
    (
        "german attribution without Am",
        "alright, no big deal.\n\n\n\ncodinghorror via Support <info@example.com> schrieb:\n>codinghorror posted\n>\n>So turns out\n\n--\nDiese Nachricht wurde von meinem Android-Mobiltelefon mit K-9 Mail gesendet.\n",
        "alright, no big deal.",
    ),
    (
        "french attribution over three lines",
        "C'est super !\nLe 4 janv. 2016 19:03, \"Neil Lalonde\"\n<info@example.com>\na écrit :\n\n> Discourse c'est top !\n>\n> Neil\n",
        "C'est super !",
    ),
    (
        "french bottom-posting",
        "Le 2016-11-16 02:22, Erlend a écrit :\n> Hello French guy,\n>\n>> is the back office in french?\n>\n> Oui!\n\nThanks for your answer.\n",
        "Thanks for your answer.",
    ),
    (
        "french outlook",
        "Merci.\n\nDe : Support <support@example.com>\nEnvoyé : lundi 3 mars 2025 10:00\nÀ : Jean\nObjet : RE: Ticket\n\nBonjour\n",
        "Merci.",
    ),
    (
        "spanish attribution",
        "Gracias.\n\nEl lun, 3 mar 2025 a las 10:00, Support (<support@example.com>) escribió:\n\n> Hola\n",
        "Gracias.",
    ),
    (
        "gmail dated address attribution",
        "Ok.\n\n2025-03-03 10:00 GMT+01:00 Support <support@example.com>:\n\n> Hola\n",
        "Ok.",
    ),
    (
        "plain signature",
        "The fix works.\n\n-- \nJane Doe\nACME Corp\n+1 555 0100\n",
        "The fix works.",
    ),
    (
        "signature delimiter without trailing space",
        "The fix works.\n--\nJane\n",
        "The fix works.",
    ),
    (
        "signature above the quote",
        "Yes.\n-- \nJane\n\nOn Mon, Mar 3, 2025 at 10:00 AM Support <s@example.com> wrote:\n> Did it work?\n",
        "Yes.",
    ),
    (
        "quoted signature delimiter is not ours",
        "> old text\n> -- \n> old sig\n\nNew text.\n",
        "New text.",
    ),
    (
        "sent from my iphone",
        "Will do.\n\nSent from my iPhone\n",
        "Will do.",
    ),
    (
        "several mobile trailers",
        "On my way.\n\nEnvoyé de mon iPhone\nVon meinem iPhone gesendet\nGet Outlook for iOS<https://aka.ms/o0ukef>\n",
        "On my way.",
    ),
    (
        "trailer then quote",
        "Thank you.\n\nSent from Outlook Mobile<https://example.com>\n\nOn Sun, Feb 7, 2016 at 12:12 AM \"Agent\" <agent@example.com> wrote:\n\nHi Some,\n",
        "Thank you.",
    ),
    (
        "'sent from' in prose is kept",
        "The parcel was sent from Berlin on Monday.\n",
        "The parcel was sent from Berlin on Monday.",
    ),
    (
        "gmail forward is kept",
        "FYI, see the customer's mail below.\n\n---------- Forwarded message ---------\nFrom: Customer <c@example.com>\nDate: Mon, Mar 3, 2025 at 9:00 AM\nSubject: Broken\nTo: <me@example.com>\n\nMy device is broken.\n",
        "FYI, see the customer's mail below.\n\n---------- Forwarded message ---------\nFrom: Customer <c@example.com>\nDate: Mon, Mar 3, 2025 at 9:00 AM\nSubject: Broken\nTo: <me@example.com>\n\nMy device is broken.",
    ),
    (
        "apple mail forward is kept, signature before it dropped",
        "Please help this customer.\n-- \nAgent Smith\n\nBegin forwarded message:\n\nFrom: Customer <c@example.com>\nSubject: Broken\n\nIt is broken.\n",
        "Please help this customer.\n\nBegin forwarded message:\n\nFrom: Customer <c@example.com>\nSubject: Broken\n\nIt is broken.",
    ),
    (
        "thunderbird forward is kept",
        "\n\n-------- Forwarded Message --------\nSubject: \tBroken\nDate: \tMon, 3 Mar 2025\nFrom: \tCustomer <c@example.com>\n\nIt is broken.\n",
        "-------- Forwarded Message --------\nSubject: \tBroken\nDate: \tMon, 3 Mar 2025\nFrom: \tCustomer <c@example.com>\n\nIt is broken.",
    ),
    (
        "reply above a forward is still trimmed when the cut comes first",
        "Thanks.\n\nOn Mon, Mar 3, 2025 at 10:00 AM Support <s@example.com> wrote:\n\nsee below\n---------- Forwarded message ---------\nold\n",
        "Thanks.",
    ),
    (
        "only quotes: the whole text is returned",
        "> just a quote\n> nothing else\n",
        "> just a quote\n> nothing else",
    ),
    (
        "only a trailer: the whole text is returned",
        "Sent from my iPhone\n",
        "Sent from my iPhone",
    ),
    (
        "footnotes kept only when still referenced",
        "See [the docs][1].\n\nOn Mon, X <x@example.com> wrote:\n\n> old [link][2]\n\n[1]: https://example.com/docs\n[2]: https://example.com/old\n",
        "See [the docs][1].\n\n[1]: https://example.com/docs",
    ),
    (
        "crlf input",
        "Hi there\r\n\r\nOn Mon, X <x@example.com> wrote:\r\n> old\r\n",
        "Hi there",
    ),
    (
        "a colon line that is no attribution",
        "Steps to reproduce:\n1. open\n2. click\n",
        "Steps to reproduce:\n1. open\n2. click",
    ),
    (
        "'on' sentence ending with colon but no verb",
        "On the login page I see:\n> Error 500\nPlease fix.\n",
        "On the login page I see:\n\nPlease fix.",
    ),
    (
        "word boundary: 'rewrote' is no attribution verb",
        "On Monday I rewrote:\nthe whole config.\n",
        "On Monday I rewrote:\nthe whole config.",
    ),
    (
        "long underscore rule alone cuts",
        "Answer.\n\n________________________________\nSome footer the client added\n",
        "Answer.",
    ),
    (
        "short underscore rule in prose is kept",
        "Name: ______\nSigned: ______\n",
        "Name: ______\nSigned: ______",
    ),
];

#[test]
fn reply_table() {
    let mut failures = Vec::new();
    for (name, input, expected) in CASES {
        let got = extract_reply(input);
        if got != *expected {
            failures.push(format!(
                "{name}:\n  expected {expected:?}\n  got      {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn forward_subject_keeps_outlook_forward() {
    let body = "Please handle.\n\n________________________________\nFrom: Customer <c@example.com>\nSent: Monday, March 3, 2025 09:00\nTo: Me\nSubject: Broken\n\nIt is broken.\n";
    assert_eq!(extract_reply_for(body, false), "Please handle.");
    let kept = extract_reply_for(body, true);
    assert!(kept.starts_with("Please handle.\n\n____"), "{kept}");
    assert!(kept.ends_with("It is broken."), "{kept}");
}

#[test]
fn huge_single_line_is_fast() {
    let body = "x".repeat(10 * 1024 * 1024);
    let start = std::time::Instant::now();
    assert_eq!(extract_reply(&body).len(), body.len());
    assert!(start.elapsed().as_secs() < 5);
}

#[test]
fn many_attribution_lines_are_linear() {
    let body = "On Mon, X wrote:\n\n".repeat(50_000);
    let start = std::time::Instant::now();
    let _ = extract_reply(&body);
    assert!(start.elapsed().as_secs() < 5);
}

#[test]
fn many_footnotes_are_linear() {
    let text = "word ".repeat(400_000) + "see [7] and [123456] and [99999]\n\n";
    let notes: String = (0..200_000)
        .map(|i| format!("[{}]: u\n", i % 100_000))
        .collect();
    let start = std::time::Instant::now();
    let reply = extract_reply(&(text + &notes));
    // Searching the text once per footnote took minutes.
    assert!(start.elapsed().as_secs() < 5);
    let kept: Vec<&str> = reply.lines().filter(|l| l.ends_with("]: u")).collect();
    assert_eq!(kept, ["[7]: u", "[99999]: u", "[7]: u", "[99999]: u"]);
}

#[test]
fn footnote_markers_are_found_where_a_search_would_find_them() {
    let text = "a [1] b [[22]] c [333 d [4444]x [55555] [666666] [7a] []";
    let markers = super::markers_in(text);
    for m in ["[1]", "[22]", "[4444]", "[55555]"] {
        assert!(markers.contains(m), "{m}");
    }
    for m in ["[333]", "[66666]", "[7]"] {
        assert!(!markers.contains(m) && !text.contains(m), "{m}");
    }
    // Six digits are never a footnote's marker.
    assert!(!markers.contains("[666666]"));
    assert_eq!(markers.len(), 4);
}
