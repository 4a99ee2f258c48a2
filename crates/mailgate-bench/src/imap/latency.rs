//! The latency phase of `bench imap`: mails sent over SMTP one at a time to the idle poller,
//! from the SMTP server's 250 to the commit of their decision.

use mailgate_test_support::smtp::SmtpConnection;

use super::*;

impl Bench<'_> {
    /// SMTP accepted → ticket committed, for mails sent one at a time to the idle poller.
    pub(super) async fn latency(&self, events: &mut Events) -> anyhow::Result<LatencyReport> {
        let n = self.opts.latency_mails;
        let interval = self.opts.latency_interval;
        progress(&format!(
            "latency: {n} mails over SMTP, {} ms apart …",
            interval.as_millis()
        ));
        let disconnects_before = events.disconnects.len();
        memory::reset_peak_rss();
        let cpu = CpuSample::now();
        let run_tag = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
        );
        let prefix = format!("latency-{run_tag}-");
        let addr = self.stack.smtp_addr();
        let to = self.user.clone();
        let sender_prefix = prefix.clone();
        let mut sender: JoinHandle<anyhow::Result<Sent>> = tokio::spawn(async move {
            let mut client = SmtpConnection::connect(&addr, "bench.mailgate.test").await?;
            let mut accepted = Vec::with_capacity(n);
            let started = Instant::now();
            for i in 0..n {
                let id = format!("{sender_prefix}{i}@bench.mailgate.test");
                let from = format!("customer{}@latency.example.test", i % 40);
                let message = latency_mail(i, &id, &from, &to);
                client
                    .send(&from, &[&to], message.as_bytes())
                    .await
                    .with_context(|| format!("sending latency mail {i} to {to}"))?;
                accepted.push((id, Instant::now()));
                if i + 1 < n {
                    tokio::time::sleep(interval).await;
                }
            }
            let send_secs = started.elapsed().as_secs_f64();
            client.quit().await;
            Ok(Sent {
                accepted,
                send_secs,
            })
        });

        let mut committed: HashMap<String, Instant> = HashMap::with_capacity(n);
        let mut sent: Option<Sent> = None;
        let mut rounds = 0u64;
        let mut idle_after_last_commit = false;
        while sent.is_none() || committed.len() < n {
            tokio::select! {
                result = &mut sender, if sent.is_none() => {
                    sent = Some(result.context("the SMTP sender task failed")??);
                }
                event = events.next() => match event? {
                    PollerEvent::Handled { message_id, at, decision, .. }
                        if message_id.starts_with(&prefix) =>
                    {
                        if decision != "created" {
                            bail!("latency mail {message_id} was {decision}, not a new ticket");
                        }
                        committed.insert(message_id, at);
                        idle_after_last_commit = false;
                    }
                    PollerEvent::Idle => {
                        rounds += 1;
                        idle_after_last_commit = true;
                    }
                    _ => {}
                },
            }
        }
        // The round that committed the last mail ends with the poller back in IDLE.
        if !idle_after_last_commit {
            events.until_idle().await?;
            rounds += 1;
        }
        let peak = memory::peak_rss_bytes();
        let cpu = cpu_since(cpu);
        let Sent {
            accepted,
            send_secs,
        } = sent.context("no SMTP result")?;
        let samples: Vec<Duration> = accepted
            .iter()
            .map(|(id, sent_at)| {
                committed
                    .get(id)
                    .map(|at| at.saturating_duration_since(*sent_at))
                    .with_context(|| format!("no commit for {id}"))
            })
            .collect::<anyhow::Result<_>>()?;
        let [inbox_left] = self.counts([FOLDER]).await?;
        let mut report =
            LatencyReport::from_samples(samples, interval.as_millis() as u64, send_secs);
        report.poller_rounds = rounds;
        report.inbox_left = inbox_left;
        report.disconnects = events.disconnects.len() - disconnects_before;
        report.peak_rss_bytes = peak;
        report.cpu = cpu;
        Ok(report)
    }
}

/// The latency mails as the SMTP server accepted them: Message-ID and when.
struct Sent {
    accepted: Vec<(String, Instant)>,
    send_secs: f64,
}

/// A plain customer mail (~1.5 KB) with its own Message-ID and subject: a new ticket each.
fn latency_mail(i: usize, message_id: &str, from: &str, to: &str) -> String {
    let date = chrono::Utc::now().to_rfc2822();
    let mut body = String::new();
    for line in [
        "Hello support team,",
        "",
        "since this morning the shared printer on the second floor shows an error and",
        "nothing we send to it comes out. We restarted it twice and checked the cables.",
        "The queue on the print server still lists our jobs as pending.",
        "",
        "Could you have a look? It blocks the invoices that have to go out today.",
        "",
        "Thanks a lot,",
    ] {
        body.push_str(line);
        body.push_str("\r\n");
    }
    body.push_str(&format!("Customer {}\r\n", i % 40));
    for _ in 0..8 {
        body.push_str(
            "-- \r\nSent from the benchmark. This line pads the mail to a typical size.\r\n",
        );
    }
    format!(
        "From: Customer {n} <{from}>\r\nTo: <{to}>\r\nSubject: Printer queue stuck (probe {i})\r\n\
         Date: {date}\r\nMessage-ID: <{message_id}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}",
        n = i % 40
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_mails_parse_with_their_id() {
        let id = "latency-1-2-3@bench.mailgate.test";
        let text = latency_mail(3, id, "customer3@latency.example.test", "u@it.example.test");
        let parsed = mail_parser::MessageParser::default()
            .parse(text.as_bytes())
            .unwrap();
        assert_eq!(parsed.message_id(), Some(id));
        assert!((1000..4000).contains(&text.len()), "{}", text.len());
        assert!(!text.replace("\r\n", "").contains('\n'));
    }
}
