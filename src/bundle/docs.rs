//! The bundle's documents: README (how to apply, in order), the production checklist
//! and the runbook, written with this plan's names, ports and commands.

use super::{Comment, Ctx, File, Scope};

pub fn readme(ctx: &Ctx, files: &[File]) -> File {
    let mut o = ctx.header(Comment::Html);
    o.push_str(&format!("# Deployment bundle: {}\n\n", ctx.plan.name));
    o.push_str("(being written)\n");
    for f in files {
        o.push_str(&format!("- `{}`: {}\n", f.path, f.about));
    }
    File::new(
        "README.md",
        Scope::Control,
        "How to apply this bundle, in order.",
        o,
    )
}

pub fn checklist(ctx: &Ctx) -> File {
    File::new(
        "CHECKLIST.md",
        Scope::Control,
        "Production checklist.",
        ctx.header(Comment::Html),
    )
}

pub fn runbook(ctx: &Ctx) -> File {
    File::new(
        "RUNBOOK.md",
        Scope::Control,
        "Runbook.",
        ctx.header(Comment::Html),
    )
}
