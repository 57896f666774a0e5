//! `NEXUS_WEB_DUMP=dir cargo test -p nexus-web --test dump` writes every sample page to `dir`
//! (for looking at them in a browser, or running axe-core over them).

#[test]
fn dump_samples_when_asked() {
    let Some(dir) = std::env::var_os("NEXUS_WEB_DUMP") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    for (name, html) in nexus_web::render_samples()
        .into_iter()
        .chain(nexus_web::render_fragment_samples())
    {
        let path = dir.join(format!("{name}.html"));
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
        std::fs::write(&path, html).expect("written");
    }
}
