//! A prediction's progress, read from its `logs`: the last tqdm/cog progress bar's step
//! counter, e.g. ` 50%|█████     | 2/4 [00:00<00:00,  2.93it/s]` → 2 of 4.
//!
//! The pattern is the official clients' (`Progress.parse` in replicate-python and
//! replicate-go), with ASCII digits only. tqdm redraws its bar with `\r`, so lines end at
//! `\n` or `\r`; the last line that matches with a usable counter wins, and a line whose
//! counter cannot be a progress (a number past `u32`, a total of 0, more done than in all) is
//! skipped as if it were not a bar.

use std::sync::LazyLock;

use picture_domain::Progress;
use regex::Regex;

/// The clients' pattern, anchored at a line's start; `[0-9]` rather than `\d`, which in the
/// `regex` crate would also match other scripts' digits.
const BAR: &str = r"^\s*([0-9]+)%\s*\|.+?\|\s*([0-9]+)/([0-9]+)";

/// [`BAR`], compiled once. `None` only if the constant did not compile, which a unit test
/// rules out.
static BAR_LINE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(BAR).ok());

/// The step counter of the last progress bar in `logs`, or `None` when there is none.
pub(crate) fn parse(logs: &str) -> Option<Progress> {
    let bar = BAR_LINE.as_ref()?;
    logs.rsplit(['\n', '\r'])
        .filter(|line| !line.is_empty())
        .find_map(|line| {
            let counter = bar.captures(line)?;
            let done = counter.get(2)?.as_str().parse::<u32>().ok()?;
            let total = counter.get(3)?.as_str().parse::<u32>().ok()?;
            Progress::new(done, total).ok()
        })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const FLUX_SCHNELL: &str = "Using seed: 42\nrunning quantized prediction\n  0%|          | 0/4 [00:00<?, ?it/s]\r 25%|██▌       | 1/4 [00:00<00:01,  2.61it/s]\r 50%|█████     | 2/4 [00:00<00:00,  2.93it/s]\n";

    fn steps(logs: &str) -> Option<(u32, u32)> {
        parse(logs).map(|p| (p.done(), p.total()))
    }

    #[test]
    fn the_pattern_compiles() {
        assert!(BAR_LINE.is_some());
    }

    #[test]
    fn the_last_bar_of_real_cog_logs_wins() {
        assert_eq!(steps(FLUX_SCHNELL), Some((2, 4)));
        assert_eq!(
            steps("100%|██████████| 30/30 [00:05<00:00,  5.32it/s]"),
            Some((30, 30))
        );
        assert_eq!(
            steps("txt2img mode\n  0%|          | 0/50 [00:00<?, ?it/s]\n"),
            Some((0, 50))
        );
    }

    #[test]
    fn a_later_line_that_is_not_a_bar_does_not_hide_the_bar() {
        let logs = format!(
            "{FLUX_SCHNELL}100%|██████████| 4/4 [00:01<00:00,  3.1it/s]\nSaving output\n\n"
        );
        assert_eq!(steps(&logs), Some((4, 4)));
    }

    #[test]
    fn logs_without_a_bar_have_no_progress() {
        assert_eq!(steps(""), None);
        assert_eq!(
            steps("Using seed: 42\nrunning quantized prediction\n"),
            None
        );
        assert_eq!(steps("3/4 done"), None);
        assert_eq!(steps("50%|| 2/4"), None, "an empty bar is not a bar");
        assert_eq!(steps("x 50%|█| 2/4"), None, "a bar starts its line");
    }

    #[test]
    fn unusable_counters_are_skipped_for_the_previous_bar() {
        let previous = " 25%|██▌       | 1/4 [00:00<00:01,  2.61it/s]\r";
        for bad in [
            " 50%|█████     | 5/4 [00:00<00:00]",
            " 50%|█████     | 0/0 [00:00<00:00]",
            " 50%|█████     | 99999999999999999999/4",
            " 50%|█████     | 2/99999999999999999999",
            "٥٠%|█████     | ٢/٤",
        ] {
            assert_eq!(steps(&format!("{previous}{bad}")), Some((1, 4)), "{bad}");
            assert_eq!(steps(bad), None, "{bad}");
        }
        assert_eq!(
            steps("99999999999999999999%|█| 4294967295/4294967295"),
            Some((u32::MAX, u32::MAX))
        );
    }

    #[test]
    fn the_counter_follows_the_first_closing_bar_that_leads_to_one() {
        assert_eq!(steps(" 50%|a|b| 2/4"), Some((2, 4)));
        assert_eq!(
            steps("\t 7%\t|\u{2588}\u{258f}|\t3/40 [00:01]"),
            Some((3, 40))
        );
    }

    proptest! {
        #[test]
        fn any_text_parses_without_panicking_into_a_valid_progress(logs in any::<String>()) {
            if let Some(progress) = parse(&logs) {
                prop_assert!(progress.total() > 0 && progress.done() <= progress.total());
            }
        }

        #[test]
        fn bar_shaped_text_parses_without_panicking_into_a_valid_progress(
            logs in r"([ \t\r\n]{0,3}[0-9]{0,12}%[ ]?\|[█▌ |\r\n]{0,6}\|[ ]?[0-9]{0,12}/[0-9]{0,12}[ \r\n]{0,2}){0,4}"
        ) {
            if let Some(progress) = parse(&logs) {
                prop_assert!(progress.total() > 0 && progress.done() <= progress.total());
            }
        }
    }
}
