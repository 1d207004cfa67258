//! `hubble-local`: the whole platform on this machine, against the emulator.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    hw_telemetry::init("hubble-local");
    let opts = hubble_local::Options::from_env()?;
    let running = hubble_local::start(&opts).await?;
    eprintln!(
        "\nHubbleWave local stack is up at {}  (emulator {}, prefix `{}`)",
        running.base_url, opts.endpoint, opts.prefix
    );
    if let Some(demo) = &running.demo {
        eprintln!(
            "demo tenant `{}`, API key {}",
            demo["tenant"].as_str().unwrap_or(""),
            demo["api_key"].as_str().unwrap_or("")
        );
        eprintln!("credentials written to {}/demo.json\n", opts.state_dir.display());
    }
    tokio::signal::ctrl_c().await?;
    eprintln!("stopping");
    Ok(())
}
