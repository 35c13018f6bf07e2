//! Printing objects as upstream kubeseal does (`pkg/kubeseal/kubeseal.go` `resourceOutput`).

use serde::Serialize;

use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Json,
    Yaml,
}

impl OutputFormat {
    /// `-o`: case-insensitive `json`/`yaml`, `""` is json; anything else is only an error when
    /// something is printed (upstream `resourceOutput`), hence `Err` carries the text for later.
    pub fn parse(s: &str) -> Result<OutputFormat, Error> {
        match s.to_ascii_lowercase().as_str() {
            "" | "json" => Ok(OutputFormat::Json),
            "yaml" => Ok(OutputFormat::Yaml),
            _ => Err(Error::UnsupportedOutputFormat(s.to_string())),
        }
    }

    /// One object: JSON pretty-printed plus `\n`, or `---\n` followed by YAML.
    pub fn render(self, object: &impl Serialize) -> Result<String, Error> {
        let value = serde_json::to_value(object).map_err(|e| Error::Serialize(e.to_string()))?;
        Ok(match self {
            OutputFormat::Json => goyaml::to_json_pretty(&value),
            OutputFormat::Yaml => format!("---\n{}", goyaml::try_to_yaml(&value)?),
        })
    }
}
