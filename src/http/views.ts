import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import type { Context } from 'koa';
import { pageSecurityHeaders } from '../security/headers.js';

type Template = Handlebars.TemplateDelegate;

/** Server-rendered pages: templates compiled once at start-up, always wrapped in the layout. */
export class Views {
  private readonly templates = new Map<string, Template>();
  private readonly layout: Template;

  constructor(readonly dir: string) {
    const hbs = Handlebars.create();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.hbs'))) {
      this.templates.set(file.slice(0, -4), hbs.compile(readFileSync(join(dir, file), 'utf8')));
    }
    const layout = this.templates.get('layout');
    if (!layout) throw new Error(`views: ${dir}/layout.hbs is missing`);
    this.layout = layout;
  }

  html(name: string, data: Record<string, unknown>): string {
    const template = this.templates.get(name);
    if (!template) throw new Error(`views: no template ${name}`);
    return this.layout({ title: data.title ?? name, body: template(data) });
  }

  render(ctx: Context, name: string, data: Record<string, unknown>, status = 200): void {
    pageSecurityHeaders(ctx);
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = this.html(name, data);
  }
}
