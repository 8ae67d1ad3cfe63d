% rebase('base.tpl', title=_('Import / export'), back_path='/admin/site')
% include('admin_nav.tpl')
<h1>{{_('Import / export')}}</h1>
<p class="hint">{{_('The whole configuration as one site.yaml file, the same file as ccbox config export and import. SIP passwords are not exported.')}}</p>
<p><a class="button" href="/admin/site/export.yaml" id="export">{{_('Download site.yaml')}}</a></p>
% include('admin_applied.tpl', applied=applied)
% if error:
<p class="error" role="alert" id="import-error">{{_(error)}} {{_('Nothing was changed.')}}</p>
% end
% if refused is not None:
<div class="error" id="refused" role="alert"><p>{{_('The file is not valid; nothing was changed.')}} ({{len(refused.errors)}})</p>
<ul>
% for e in refused.errors:
<li>{{str(e)}}</li>
% end
</ul></div>
% end
% if outcome is not None:
<div class="{{'notice' if dry_run else 'ok'}}" id="import-result">
<p>{{_('The file is valid. It would change:') if dry_run else _('Imported. Changed:')}}</p>
<ul>
% for s, d in outcome.changes.items():
% if not d.empty:
<li>{{s}}: {{_('added')}} {{', '.join(d.added) or '-'}}; {{_('changed')}} {{', '.join(d.changed) or '-'}}; {{_('removed')}} {{', '.join(d.removed) or '-'}}</li>
% end
% end
</ul>
% for w in outcome.warnings:
<p class="warn">{{str(w)}}</p>
% end
</div>
% end
% if pins:
<h2>{{_('PINs of the new conference rooms (shown once)')}}</h2>
<table id="new-pins"><tbody>
% for room, pin in pins.items():
<tr><td>{{room}}</td><td class="secret">{{pin}}</td></tr>
% end
</tbody></table>
% end
% if passwords:
<h2>{{_('Passwords of the new extensions (shown once)')}}</h2>
<table id="new-passwords"><tbody>
% for ext, pw in passwords.items():
<tr><td>{{ext}}</td><td class="secret">{{pw}}</td></tr>
% end
</tbody></table>
% end
<form method="post" action="/admin/site/import" enctype="multipart/form-data" class="card wide" id="import-form">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<label>{{_('site.yaml file')}} <input type="file" name="file" id="import-file" accept=".yaml,.yml,text/yaml"></label>
<label>{{_('or paste it here')}} <textarea name="text" rows="14" id="import-text">{{text}}</textarea></label>
<p><button name="op" value="check" id="import-check">{{_('Check only')}}</button>
<button name="op" value="import" id="import-apply" data-confirm="{{_('Apply this file to the running box?')}}">{{_('Import')}}</button></p>
<p class="hint">{{_('Sections the file leaves out are kept; a section in the file replaces the stored one.')}}</p>
</form>
