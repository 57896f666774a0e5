use super::*;
use crate::calendar::day_of_date;
use crate::money::Currency;
use crate::tender::MAX_REFERENCE_CHARS;

/// 2026-01-10T14:00:00Z (checked against `date -u -d '2026-01-10 14:00:00' +%s`).
const JAN_10_14H: i64 = 1_768_053_600_000;
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|cell| (*cell).to_owned()).collect()
}

fn read(format: TimeFormat, text: &str) -> Option<i64> {
    format.read(text, 0).map(UnixMillis::as_millis)
}

#[test]
fn the_reference_instant_is_what_the_calendar_says() {
    let day = i64::from(day_of_date(2026, 1, 10));
    assert_eq!(day, 20_463);
    assert_eq!((day * 86_400 + 14 * 3600) * 1000, JAN_10_14H);
}

#[test]
fn each_time_format_reads_its_own_order() {
    let cases = [
        (TimeFormat::YearMonthDay, "2026-01-10 14:00:00"),
        (TimeFormat::YearMonthDay, "2026/01/10 14:00"),
        (TimeFormat::YearMonthDay, "2026.01.10T14:00:00"),
        (TimeFormat::YearMonthDay, "2026-01-10T14:00:00.000Z"),
        (TimeFormat::DayMonthYear, "10/01/2026 14:00:00"),
        (TimeFormat::DayMonthYear, "10-01-2026T14:00"),
        (TimeFormat::DayMonthYear, "10.1.2026 14:00"),
        (TimeFormat::MonthDayYear, "01/10/2026 14:00:00"),
        (TimeFormat::MonthDayYear, "1/10/2026 2:00 PM"),
        (TimeFormat::DayMonthNameYear, "10-Jan-2026 14:00:00"),
        (TimeFormat::DayMonthNameYear, "10-JANUARY-2026 14:00"),
        (TimeFormat::DayMonthNameYear, "10/jan/2026T14:00"),
    ];
    for (format, text) in cases {
        assert_eq!(read(format, text), Some(JAN_10_14H), "{format:?} {text}");
    }
    assert_eq!(
        read(TimeFormat::YearMonthDay, "2026-01-10 14:00:05.250"),
        Some(JAN_10_14H + 5000),
        "fractions are dropped, seconds kept"
    );
    assert_eq!(
        read(TimeFormat::DayMonthNameYear, "01-Oct-2026T00:00"),
        read(TimeFormat::YearMonthDay, "2026-10-01 00:00"),
        "the T of Oct is no separator"
    );
    assert_eq!(
        read(TimeFormat::DayMonthYear, "10/01/2026 12:30 am"),
        Some(JAN_10_14H - 13 * HOUR - 30 * MINUTE)
    );
    for format in TimeFormat::ALL {
        assert_eq!(TimeFormat::parse(format.as_str()), Some(format));
    }
    assert_eq!(
        TimeFormat::parse(" DD/MM/YYYY HH:mm:ss "),
        Some(TimeFormat::DayMonthYear)
    );
    assert_eq!(TimeFormat::parse("dd/mm/yyyy"), None);
}

#[test]
fn the_shops_offset_moves_local_time_to_utc() {
    assert_eq!(
        TimeFormat::YearMonthDay
            .read("2026-01-10 15:00", 60)
            .map(UnixMillis::as_millis),
        Some(JAN_10_14H)
    );
    assert_eq!(
        TimeFormat::YearMonthDay
            .read("2026-01-10 13:30", -30)
            .map(UnixMillis::as_millis),
        Some(JAN_10_14H)
    );
    assert_eq!(
        TimeFormat::YearMonthDay.read("2026-01-10 14:00", i64::MAX),
        None
    );
}

#[test]
fn impossible_or_foreign_times_are_refused() {
    for text in [
        "2026-13-01 10:00",
        "2026-00-10 10:00",
        "2026-04-31 10:00",
        "2026-06-31 10:00",
        "2026-09-31 10:00",
        "2026-11-31 10:00",
        "2026-02-29 10:00",
        "2026-01-00 10:00",
        "2026-01-10 24:00",
        "2026-01-10 10:60",
        "2026-01-10 10:00:60",
        "2026-01-10 10",
        "2026-01-10 10:5",
        "2026-01-10 10:00:00:00",
        "2026-01-10 13:00 PM",
        "2026-01-10 10:00:00.",
        "2026-01-10",
        "26-01-10 10:00",
        "2026-01 10:00",
        "yesterday",
        "",
    ] {
        assert_eq!(read(TimeFormat::YearMonthDay, text), None, "{text}");
    }
    assert!(read(TimeFormat::YearMonthDay, "2024-02-29 10:00").is_some());
    assert_eq!(read(TimeFormat::DayMonthYear, "2026-01-10 14:00"), None);
    assert_eq!(read(TimeFormat::MonthDayYear, "13/01/2026 14:00"), None);
    for text in [
        "10-Janx-2026 14:00",
        "10-Ja-2026 14:00",
        "10-J€n-2026 14:00",
        "10-01-2026 14:00",
    ] {
        assert_eq!(read(TimeFormat::DayMonthNameYear, text), None, "{text}");
    }
}

#[test]
fn guess_reads_an_mtn_like_header() {
    let header = strings(&["Transaction ID", "Date", "From", "Amount", "Status"]);
    let guessed = Mapping::guess(&header, &["10/01/2026 14:03", "31/01/2026 09:00"]);
    assert_eq!(
        guessed,
        Some(Mapping {
            transaction_id: "Transaction ID".to_owned(),
            time: "Date".to_owned(),
            amount: "Amount".to_owned(),
            payer: Some("From".to_owned()),
            status: Some("Status".to_owned()),
            time_format: TimeFormat::DayMonthYear,
        })
    );
    // 13 cannot be a month, so only the US order reads both.
    let us = Mapping::guess(&header, &["01/10/2026 14:03", "01/13/2026 09:00", " "]);
    assert_eq!(
        us.map(|mapping| mapping.time_format),
        Some(TimeFormat::MonthDayYear)
    );
    let named = Mapping::guess(&header, &["10-Jan-2026 14:03"]);
    assert_eq!(
        named.map(|mapping| mapping.time_format),
        Some(TimeFormat::DayMonthNameYear)
    );
}

#[test]
fn guess_knows_other_portals_names_and_gives_up_without_the_essentials() {
    let header = strings(&[
        " Financial Transaction Id ",
        "Reference",
        "Date/Time",
        "Amount (GHS)",
        "MSISDN",
    ]);
    let guessed = Mapping::guess(&header, &["2026-01-10 14:03:00"]);
    assert_eq!(
        guessed,
        Some(Mapping {
            transaction_id: "Financial Transaction Id".to_owned(),
            time: "Date/Time".to_owned(),
            amount: "Amount (GHS)".to_owned(),
            payer: Some("MSISDN".to_owned()),
            status: None,
            time_format: TimeFormat::YearMonthDay,
        })
    );
    let bare = Mapping::guess(&strings(&["Id", "Time", "Credit"]), &[]);
    assert_eq!(bare.as_ref().map(|m| m.transaction_id.as_str()), Some("Id"));
    assert_eq!(bare.as_ref().map(|m| m.amount.as_str()), Some("Credit"));
    assert_eq!(bare.and_then(|m| m.payer), None);
    assert_eq!(
        Mapping::guess(&strings(&["Transaction ID", "Date", "Status"]), &[]),
        None
    );
    assert_eq!(Mapping::guess(&strings(&["Date", "Amount"]), &[]), None);
    assert_eq!(Mapping::guess(&[], &[]), None);
}

fn mtn_mapping() -> Mapping {
    Mapping {
        transaction_id: "Transaction ID".to_owned(),
        time: "Date".to_owned(),
        amount: "Amount".to_owned(),
        payer: Some("From".to_owned()),
        status: None,
        time_format: TimeFormat::YearMonthDay,
    }
}

#[test]
fn locate_matches_headers_loosely_and_names_what_is_missing() {
    let columns = mtn_mapping()
        .locate(&strings(&[
            "\u{feff} amount",
            "DATE ",
            "transaction id",
            "From",
            "x",
        ]))
        .expect("every column is there");
    assert_eq!(
        (
            columns.amount,
            columns.time,
            columns.transaction_id,
            columns.payer
        ),
        (0, 1, 2, Some(3))
    );

    let changed = strings(&["Txn Ref", "Date", "Amount"]);
    let error = mtn_mapping()
        .locate(&changed)
        .expect_err("the id and payer are gone");
    assert_eq!(
        error,
        StatementError::ColumnsMissing {
            found: changed.clone(),
            expected: strings(&["Transaction ID", "Date", "Amount", "From"]),
        }
    );
    let message = error.to_string();
    assert!(
        message.contains("missing: Transaction ID, From"),
        "{message}"
    );
    assert!(
        message.contains("found: Txn Ref, Date, Amount"),
        "{message}"
    );

    let mut no_payer = mtn_mapping();
    no_payer.payer = None;
    assert!(no_payer.locate(&changed).is_err());
    no_payer.transaction_id = "Txn Ref".to_owned();
    assert!(no_payer.locate(&changed).is_ok(), "the payer is optional");

    let mut twice = mtn_mapping();
    twice.amount = "date".to_owned();
    assert!(matches!(
        twice.locate(&changed),
        Err(StatementError::Mapping(_))
    ));
}

#[test]
fn check_refuses_a_column_named_twice_or_not_at_all() {
    let mut mapping = mtn_mapping();
    assert_eq!(mapping.check(), Ok(()));
    mapping.payer = Some(" transaction id ".to_owned());
    match mapping.check() {
        Err(StatementError::Mapping(message)) => {
            assert!(message.contains("\"Transaction ID\""), "{message}");
            assert!(
                message.contains("transaction id and the payer"),
                "{message}"
            );
        }
        other => panic!("expected a mapping error, got {other:?}"),
    }
    mapping.payer = None;
    mapping.time = "  ".to_owned();
    assert_eq!(
        mapping.check(),
        Err(StatementError::Mapping(
            "choose the column that holds the time".to_owned()
        ))
    );
    mapping.time = "Amount".to_owned();
    assert!(mapping.check().is_err());
}

#[test]
fn a_status_column_keeps_failed_and_pending_attempts_out() {
    let mut mapping = mtn_mapping();
    mapping.status = Some("status".to_owned());
    let header = strings(&["Transaction ID", "Date", "From", "Amount", "Status"]);
    let columns = mapping.locate(&header).expect("columns");
    let read = |status: &str| {
        columns.row(
            &strings(&["MP1", "2026-01-10 14:00", "", "15.00", status]),
            4,
            Currency::Ghs,
            0,
        )
    };
    for paid in ["Successful", " SUCCESS ", "Completed", "approved"] {
        assert!(matches!(read(paid), Ok(Some(_))), "{paid}");
    }
    for unpaid in [
        "Failed",
        "PENDING",
        "Rejected",
        "Reversed",
        "Timed out",
        "cancelled",
    ] {
        assert_eq!(read(unpaid), Ok(None), "{unpaid}");
    }
    // A word it does not know is refused, never taken as paid.
    match read("Done?") {
        Err(StatementError::Row { line: 4, problem }) => {
            assert!(problem.contains("\"Done?\""), "{problem}");
        }
        other => panic!("expected the row refused, got {other:?}"),
    }
    assert!(read("").is_err(), "a blank status says nothing");

    let missing = mapping.locate(&strings(&["Transaction ID", "Date", "From", "Amount"]));
    assert!(
        matches!(&missing, Err(StatementError::ColumnsMissing { expected, .. }) if expected.last().map(String::as_str) == Some("status")),
        "{missing:?}"
    );
    mapping.status = Some("Amount".to_owned());
    assert!(mapping.check().is_err(), "one column for two things");
}

fn columns() -> Columns {
    mtn_mapping()
        .locate(&strings(&[
            "Transaction ID",
            "Date",
            "From",
            "Amount",
            "Status",
        ]))
        .expect("columns")
}

fn row(cells: &[&str]) -> Result<Option<StatementRow>, StatementError> {
    columns().row(&strings(cells), 7, Currency::Ghs, 0)
}

fn amount_of(text: &str) -> Result<Option<i64>, StatementError> {
    row(&["MP1", "2026-01-10 14:00", "", text, "Successful"])
        .map(|read| read.map(|payment| payment.amount_minor))
}

#[test]
fn a_row_is_read_as_a_payment() {
    let paid = row(&[
        " MP260110.1400.A1 ",
        "2026-01-10 14:00",
        " 0244123456 ",
        "GHS 1,200.50",
    ]);
    assert_eq!(
        paid,
        Ok(Some(StatementRow {
            transaction_id: "MP260110.1400.A1".to_owned(),
            at: UnixMillis::from_millis(JAN_10_14H),
            amount_minor: 120_050,
            payer: Some("0244123456".to_owned()),
        }))
    );
    let read = row(&["MP1", "2026-01-10 14:00", "  ", "15"]).expect("read");
    assert_eq!(
        read.and_then(|payment| payment.payer),
        None,
        "a blank payer is none"
    );
    let shifted = columns()
        .row(
            &strings(&["MP1", "2026-01-10 14:00", "", "1"]),
            2,
            Currency::Ghs,
            60,
        )
        .expect("read")
        .map(|payment| payment.at.as_millis());
    assert_eq!(shifted, Some(JAN_10_14H - HOUR));
}

#[test]
fn amounts_are_read_however_the_portal_dresses_them() {
    for (text, minor) in [
        ("GHS 1,200.50", 120_050),
        ("15", 1500),
        ("15.5", 1550),
        ("GH₵15.00", 1500),
        ("GH¢ 15.00", 1500),
        ("15.00 GHS", 1500),
        (" 1 200.50 ", 120_050),
        ("+20.00", 2000),
    ] {
        assert_eq!(amount_of(text), Ok(Some(minor)), "{text}");
    }
    for withdrawal in [
        "-5.00",
        "GHS -5.00",
        "-GHS 5.00",
        "(5.00)",
        "5.00-",
        "0.00",
        "",
        "-",
    ] {
        assert_eq!(amount_of(withdrawal), Ok(None), "{withdrawal}");
    }
    assert_eq!(
        columns().row(
            &strings(&["MP1", "2026-01-10 14:00", "", "12"]),
            3,
            Currency::Xof,
            0
        ),
        Ok(Some(StatementRow {
            transaction_id: "MP1".to_owned(),
            at: UnixMillis::from_millis(JAN_10_14H),
            amount_minor: 12,
            payer: None,
        })),
        "XOF has no minor unit"
    );
}

#[test]
fn a_bad_cell_names_its_line() {
    match amount_of("abc") {
        Err(StatementError::Row { line, problem }) => {
            assert_eq!(line, 7);
            assert!(problem.contains("\"abc\""), "{problem}");
        }
        other => panic!("expected a row error, got {other:?}"),
    }
    assert_eq!(
        amount_of("abc").map_err(|error| error.to_string()),
        Err("line 7: the amount \"abc\" cannot be read as an amount of money".to_owned())
    );
    for bad in ["12.505", "1.2.3", "--5", "GHS"] {
        assert!(
            matches!(amount_of(bad), Err(StatementError::Row { line: 7, .. })),
            "{bad}"
        );
    }
    assert!(matches!(
        row(&["MP1", "10/01/2026 14:00", "", "5.00"]),
        Err(StatementError::Row { line: 7, problem }) if problem.contains("YYYY-MM-DD")
    ));
    assert!(matches!(
        row(&[" ", "2026-01-10 14:00", "", "5.00"]),
        Err(StatementError::Row { line: 7, .. })
    ));
    let long = "x".repeat(MAX_REFERENCE_CHARS + 1);
    assert!(matches!(
        row(&[&long, "2026-01-10 14:00", "", "5.00"]),
        Err(StatementError::Row { line: 7, .. })
    ));
    let longest = "x".repeat(MAX_REFERENCE_CHARS);
    assert!(matches!(
        row(&[&longest, "2026-01-10 14:00", "", "5.00"]),
        Ok(Some(_))
    ));
    // A short record lacks the amount: nothing received on it, not an error.
    assert_eq!(row(&["MP1"]), Ok(None));
    assert_eq!(row(&["", " ", ""]), Ok(None));
    assert_eq!(row(&[]), Ok(None));
}

fn payment(id: &str, minutes: i64, amount_minor: i64) -> StatementRow {
    StatementRow {
        transaction_id: id.to_owned(),
        at: UnixMillis::from_millis(JAN_10_14H + minutes * MINUTE),
        amount_minor,
        payer: None,
    }
}

fn claim(key: u32, reference: &str, minutes: i64, amount_minor: i64) -> Claim<u32> {
    Claim {
        key,
        reference: reference.to_owned(),
        amount_minor,
        at: UnixMillis::from_millis(JAN_10_14H + minutes * MINUTE),
    }
}

fn states(verdicts: &[Verdict<'_, u32>]) -> Vec<(u32, MatchState)> {
    verdicts
        .iter()
        .map(|verdict| (verdict.key, verdict.state))
        .collect()
}

#[test]
fn each_claim_gets_the_verdict_the_statement_supports() {
    let rows = [
        payment("MP1", 0, 1200),
        payment("MP2", 10, 1000),
        payment("MP3", 20, 1200),
        payment("MP9", 600, 500),
    ];
    let claims = [
        claim(1, "MP1", 3, 1200),
        claim(2, "mp2 ", -12, 1200),
        claim(3, "FAKE", 30, 1200),
        claim(4, "MP3", 20, 1200),
        claim(5, " mp3", 25, 800),
        // The id is real, but of a payment ten hours after this sale.
        claim(6, "MP9", 0, 500),
        // A day after anything the statement covers: for a later statement.
        claim(7, "MP7", 24 * 60 + 600, 1200),
        // Before the statement starts, by more than the window.
        claim(8, "MP0", -7 * 60, 1200),
    ];
    let verdicts = reconcile(&claims, &rows, MATCH_WINDOW_MILLIS);
    assert_eq!(
        states(&verdicts),
        [
            (1, MatchState::Matched),
            (2, MatchState::AmountDiffers),
            (3, MatchState::NotFound),
            (4, MatchState::ClaimedTwice),
            (5, MatchState::ClaimedTwice),
            (6, MatchState::NotFound),
        ]
    );
    let row_of = |key: u32| {
        verdicts
            .iter()
            .find(|verdict| verdict.key == key)
            .and_then(|verdict| verdict.row)
    };
    assert_eq!(row_of(1), Some(&rows[0]));
    assert_eq!(row_of(2).map(|row| row.amount_minor), Some(1000));
    assert_eq!(row_of(3), None);
    assert_eq!(row_of(6), Some(&rows[3]), "the other payment is shown");
}

#[test]
fn a_reference_claimed_twice_is_so_whatever_the_case_spacing_or_statement() {
    let claims = [
        claim(1, "MP-ab12", 0, 1200),
        claim(2, " mp-AB12  ", 0, 1200),
        claim(3, "MP-AB12", 0, 1200),
        claim(4, "mp-ab13", 0, 1200),
    ];
    let rows = [payment("MP-AB12", 0, 1200), payment("MP-AB13", 0, 1200)];
    assert_eq!(
        states(&reconcile(&claims, &rows, MATCH_WINDOW_MILLIS)),
        [
            (1, MatchState::ClaimedTwice),
            (2, MatchState::ClaimedTwice),
            (3, MatchState::ClaimedTwice),
            (4, MatchState::Matched),
        ],
        "the same payment for three sales is no match for any"
    );
    // With no payments, only a reused id can be judged.
    assert_eq!(
        states(&reconcile(&claims, &[], MATCH_WINDOW_MILLIS)),
        [
            (1, MatchState::ClaimedTwice),
            (2, MatchState::ClaimedTwice),
            (3, MatchState::ClaimedTwice),
        ]
    );
}

#[test]
fn the_window_is_inclusive_at_both_of_its_ends() {
    let window = MATCH_WINDOW_MILLIS;
    let rows = [payment("MP1", 0, 500)];
    let at = |millis: i64, amount: i64| Claim {
        key: 0_u32,
        reference: "MP1".to_owned(),
        amount_minor: amount,
        at: UnixMillis::from_millis(JAN_10_14H + millis),
    };
    let verdict = |claim: Claim<u32>| {
        reconcile(&[claim], &rows, window)
            .first()
            .map(|verdict| verdict.state)
    };
    assert_eq!(verdict(at(window, 500)), Some(MatchState::Matched));
    assert_eq!(verdict(at(-window, 500)), Some(MatchState::Matched));
    assert_eq!(verdict(at(window, 499)), Some(MatchState::AmountDiffers));
    assert_eq!(verdict(at(window + 1, 500)), Some(MatchState::NotFound));
    assert_eq!(verdict(at(-window - 1, 500)), Some(MatchState::NotFound));

    // The coverage of an unknown id is widened by the same window, inclusively.
    let unknown = |millis: i64| Claim {
        reference: "NOPE".to_owned(),
        ..at(millis, 500)
    };
    assert_eq!(verdict(unknown(window)), Some(MatchState::NotFound));
    assert_eq!(verdict(unknown(-window)), Some(MatchState::NotFound));
    assert_eq!(verdict(unknown(window + 1)), None);
    assert_eq!(verdict(unknown(-window - 1)), None);
}

#[test]
fn an_id_listed_twice_is_judged_by_its_nearest_listing() {
    let rows = [payment("MP1", -600, 700), payment("mp1", 2, 500)];
    let verdicts = reconcile(&[claim(1, "MP1", 0, 500)], &rows, MATCH_WINDOW_MILLIS);
    assert_eq!(states(&verdicts), [(1, MatchState::Matched)]);
    assert_eq!(
        verdicts.first().and_then(|verdict| verdict.row),
        Some(&rows[1])
    );
}

#[test]
fn networks_and_states_read_back_what_they_write() {
    for network in Network::ALL {
        assert_eq!(Network::parse(network.as_str()), Some(network));
        assert!(crate::tender::MOMO_NETWORKS.contains(&network.as_str()));
        assert_eq!(
            serde_json::to_value(network).ok(),
            Some(serde_json::Value::from(network.as_str()))
        );
    }
    assert_eq!(Network::parse(" AirtelTigo "), Some(Network::AirtelTigo));
    assert_eq!(Network::parse("vodafone"), None);
    assert_eq!(Network::Telecel.name(), "Telecel Cash");
    for state in MatchState::ALL {
        assert_eq!(MatchState::parse(state.as_str()), Some(state));
        assert_eq!(
            serde_json::to_value(state).ok(),
            Some(serde_json::Value::from(state.as_str()))
        );
    }
    assert_eq!(MatchState::parse("Matched"), None);
    assert_eq!(MatchState::NotFound.label(), "Not in the statement");
    assert_eq!(MatchState::AmountDiffers.label(), "Amount differs");
}

#[test]
fn payer_numbers_are_sent_as_international_digits() {
    assert_eq!(msisdn("024 412 3456").as_deref(), Some("233244123456"));
    assert_eq!(msisdn("+233-24-412-3456").as_deref(), Some("233244123456"));
    assert_eq!(msisdn("00233244123456").as_deref(), Some("233244123456"));
    assert_eq!(msisdn("46733123450").as_deref(), Some("46733123450"));
    for bad in ["", "0244", "024412345x", "+", "1234567890123456"] {
        assert_eq!(msisdn(bad), None, "{bad:?}");
    }
}

#[test]
fn a_request_is_checked_again_only_while_open_and_not_too_often() {
    assert!(!due_for_check(
        RequestState::Pending,
        1_000,
        1_000 + RECHECK_MILLIS - 1
    ));
    assert!(due_for_check(
        RequestState::Pending,
        1_000,
        1_000 + RECHECK_MILLIS
    ));
    assert!(due_for_check(RequestState::Sending, 0, RECHECK_MILLIS));
    assert!(!due_for_check(RequestState::Paid, 0, i64::MAX));
    assert!(!due_for_check(RequestState::Failed, 0, i64::MAX));
    for state in RequestState::ALL {
        assert_eq!(RequestState::parse(state.as_str()), Some(state));
    }
    assert_eq!(RequestState::parse("done"), None);
}

#[test]
fn each_refusal_is_said_for_the_cashier() {
    assert!(failure_message("APPROVAL_REJECTED").contains("declined"));
    assert!(failure_message("not_enough_funds").contains("enough money"));
    assert!(failure_message("EXPIRED").contains("in time"));
    let unknown = failure_message("SOMETHING_NEW");
    assert!(unknown.contains("could not take"), "{unknown}");
    assert!(
        !unknown.contains("SOMETHING_NEW"),
        "no code on the cashier's screen"
    );
}
