//! Checks of a clap command line shared by both binaries' tests: every argument `--help`
//! shows has a description.

/// `path arg` of every argument, in every subcommand of `command`, that `--help` shows
/// without a word (`--help` and `--version` aside). `path` names the binary.
pub fn undescribed_arguments(command: &clap::Command, path: &str) -> Vec<String> {
    let mut out = Vec::new();
    collect(command, path, &mut out);
    out
}

fn collect(command: &clap::Command, path: &str, out: &mut Vec<String>) {
    for arg in command.get_arguments() {
        let builtin = matches!(arg.get_id().as_str(), "help" | "version");
        if !builtin && !arg.is_hide_set() && arg.get_help().is_none() {
            out.push(format!("{path} {}", arg.get_id()));
        }
    }
    for sub in command.get_subcommands() {
        collect(sub, &format!("{path} {}", sub.get_name()), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_undescribed_argument_with_its_subcommand() {
        let command = clap::Command::new("tool")
            .arg(clap::Arg::new("json").long("json").help("Print JSON"))
            .arg(clap::Arg::new("quiet").long("quiet"))
            .arg(clap::Arg::new("secret").long("secret").hide(true))
            .subcommand(clap::Command::new("list").arg(clap::Arg::new("limit").long("limit")));
        assert_eq!(
            undescribed_arguments(&command, "tool"),
            vec!["tool quiet".to_string(), "tool list limit".to_string()]
        );
    }
}
