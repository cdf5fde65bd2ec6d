//! Terminal styles for the human outputs (inspect, check, diff): ANSI when colour is on,
//! plain text otherwise (the CLI decides: `--color`, `NO_COLOR`, a terminal or not).

/// Terminal styles, empty when colour is off.
pub struct Paint {
    pub on: bool,
}

impl Paint {
    pub fn paint(&self, style: anstyle::Style, text: &str) -> String {
        if self.on {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }
    pub fn bold(&self, t: &str) -> String {
        self.paint(anstyle::Style::new().bold(), t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.paint(anstyle::Style::new().dimmed(), t)
    }
    pub fn warn(&self, t: &str) -> String {
        self.paint(
            anstyle::Style::new()
                .bold()
                .fg_color(Some(anstyle::AnsiColor::Yellow.into())),
            t,
        )
    }
    /// Code-running globals and other dangers: bold red.
    pub fn danger(&self, t: &str) -> String {
        self.paint(
            anstyle::Style::new()
                .bold()
                .fg_color(Some(anstyle::AnsiColor::Red.into())),
            t,
        )
    }
    /// What is fine: green.
    pub fn good(&self, t: &str) -> String {
        self.paint(
            anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Green.into())),
            t,
        )
    }
    pub fn accent(&self, t: &str) -> String {
        self.paint(
            anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Cyan.into())),
            t,
        )
    }
}
