% rebase('base.tpl', title=_(ui.item), back_path='/admin/' + section)
% include('admin_nav.tpl')
% if key is None:
<h1>{{_('Add')}}: {{_(ui.item)}}</h1>
% else:
<h1>{{_(ui.item)}} {{key}}</h1>
% end
% if any(f.errors for f in fields + more) or other:
<div class="error" id="form-errors" role="alert"><p>{{_('Not saved: please correct the marked fields. Nothing was changed.')}}</p>
% if other:
<ul>
% for e in other:
<li>{{e.where()}}: {{e.message}}</li>
% end
</ul>
% end
</div>
% end
<form method="post" action="/admin/{{section}}{{'' if key is None else '/' + quote(key, safe='')}}" class="card wide" id="site-form">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
% include('admin_fields.tpl', fields=fields, disabled=False)
% if more:
<details {{'open' if any(f.errors for f in more) else ''}}><summary>{{_('More settings')}}</summary>
% include('admin_fields.tpl', fields=more, disabled=False)
</details>
% end
<p><button type="submit" id="save">{{_('Save')}}</button> <a href="/admin/{{section}}">{{_('Cancel')}}</a></p>
</form>
